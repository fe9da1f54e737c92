// attnplay.mjs, files the user hands the app: the file picker (File -> Import), a drop on the figure, and the API's
// importFile. A config arrives as UTF-8 text; weights, attention maps from another model and workspaces as bytes.
import { el } from './dom.mjs';

const BINARY = /\.(safetensors|npy|npz|attnplay)$/i;  // weights, attention maps from another model, a workspace

// dropModel(dataTransfer) -> Promise<bool>: a model folder dropped (pretrained.mjs) takes the drop first.
export function fileImport(box, getModule, dropModel = null) {
  const M = () => getModule();
  const text = (t, name) => M().attnplayWithText(t, (p, n) => M().attnplayWithText(name, (q, m) => M()._ap_app_import(p, n, q, m)));
  const bytes = (b, name) => M().attnplayWithBytes(b, (p, n) => M().attnplayWithText(name, (q, m) => M()._ap_app_import(p, n, q, m)));
  const file = async (f) => (BINARY.test(f.name) ? bytes(new Uint8Array(await f.arrayBuffer()), f.name) : text(await f.text(), f.name));
  const picker = el('input', { display: 'none' }, { type: 'file', accept: '.json,application/json,.safetensors,.npy,.npz,.attnplay' });
  box.append(picker);
  picker.addEventListener('change', async () => {
    const f = picker.files && picker.files[0];
    if (f) await file(f);
    picker.value = '';
  });
  box.addEventListener('dragover', (e) => { e.preventDefault(); });
  box.addEventListener('drop', async (e) => {
    e.preventDefault();
    const f = e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files[0];  // (read now: the drop's data goes with the event)
    if (dropModel && e.dataTransfer && await dropModel(e.dataTransfer)) return;
    if (f) await file(f);
  });
  return {
    pick: () => picker.click(),
    text,   // (text, name) -> 1 accepted, 0 refused (the app shows why)
    bytes,  // (bytes, name) -> the same
  };
}
