"""attnplay's files in pure Python: weights (.safetensors, ../shared/SPEC.md section 5), workspaces (.attnplay,
src/model/workspace.h) and attention maps (.safetensors with an "attention" tensor, .npz, .npy).

load(path) -> Weights | Workspace | AttentionMaps, by the file's content (not its name).
Each object has .save(path) and .to_bytes(), which write what attnplay reads (a workspace with fresh checksums).
"""
import io
import json
import struct
import zlib

import numpy as np

from ._arrays import AttnplayError, to_numpy

# safetensors dtype -> numpy dtype (little-endian). BF16 has no numpy dtype: decode() widens it to float32.
_DTYPES = {"F32": "<f4", "F64": "<f8", "F16": "<f2", "BF16": "<u2", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
           "U8": "u1", "BOOL": "?"}
_WORKSPACE_MAGIC = b"APWKSP\r\n"
WORKSPACE_VERSION = 1  # kWorkspaceVersion: the schema this package reads and writes


def safetensors_entries(data, what="file"):
    """bytes (or an mmap) -> ([(name, dtype, shape, raw bytes)], metadata {str: str}): the header parsed and every
    tensor's bytes checked against the file, refusing a malformed or truncated file by its name (what) and the
    tensor's. The one parser behind safetensors_read and the Hugging Face folder reader (_pretrained.py)."""
    if len(data) < 8:
        raise AttnplayError(f"{what}: not a safetensors file (shorter than its 8-byte header length)")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8 or n > 100 << 20:
        raise AttnplayError(f"{what}: not a safetensors file (header length {n} is past the end)")
    try:
        header = json.loads(bytes(data[8:8 + n]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise AttnplayError(f"{what}: the safetensors header is not JSON ({e})") from None
    if not isinstance(header, dict):
        raise AttnplayError(f"{what}: the safetensors header is not a JSON object")
    body = memoryview(data)[8 + n:]
    meta = header.pop("__metadata__", None) or {}
    entries = []
    for name, t in header.items():
        try:
            dtype, shape, (b, e) = t["dtype"], [int(s) for s in t["shape"]], t["data_offsets"]
            b, e = int(b), int(e)
        except (KeyError, TypeError, ValueError):
            raise AttnplayError(f"{what}: tensor {name!r} lacks dtype, shape or data_offsets") from None
        if dtype not in _DTYPES:
            raise AttnplayError(f"{what}: tensor {name!r} has dtype {dtype}, which this package does not read")
        if e > len(body):  # the usual sign of a download or copy that stopped early
            raise AttnplayError(f"{what}: tensor {name!r} lies past the end of the file (its data ends at byte {e}, the "
                                f"file holds {len(body)}: truncated?)")
        count = int(np.prod(shape, dtype=np.int64))
        if not 0 <= b <= e or min(shape, default=0) < 0 or e - b != count * np.dtype(_DTYPES[dtype]).itemsize:
            raise AttnplayError(f"{what}: tensor {name!r}: data_offsets [{b}, {e}] do not hold {dtype} {shape}")
        entries.append((name, dtype, shape, body[b:e]))
    return entries, {str(k): str(v) for k, v in meta.items()}


def decode(dtype, raw, shape, float32=False):
    """One tensor's raw bytes -> its own numpy array (a copy: the file's buffer can go). BF16, the top half of a
    float32, is widened to float32; float32=True widens F16 and F64 too (integer and BOOL tensors stay as stored)."""
    arr = np.frombuffer(raw, dtype=_DTYPES[dtype])
    if dtype == "BF16":
        arr = (arr.astype(np.uint32) << 16).view(np.float32)
    target = np.float32 if float32 and dtype in ("F16", "F64") else arr.dtype
    return np.array(arr, dtype=target).reshape(shape)


def safetensors_read(data, what="file"):
    """bytes -> (tensors {name: np.ndarray}, metadata {str: str}); refuses a malformed file by name."""
    entries, meta = safetensors_entries(data, what)
    return {name: decode(dtype, raw, shape) for name, dtype, shape, raw in entries}, meta


def safetensors_write(tensors, metadata=None):
    """{name: array} (+ {str: str} metadata) -> safetensors bytes, tensors in name order, header padded to 8 bytes."""
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        code = {np.dtype("<f4"): "F32", np.dtype("<f8"): "F64", np.dtype("<f2"): "F16", np.dtype("<i8"): "I64",
                np.dtype("<i4"): "I32"}.get(a.dtype.newbyteorder("<"))
        if code is None:
            raise AttnplayError(f"tensor {name!r}: dtype {a.dtype} cannot be written (float32 is what attnplay reads)")
        blob = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": code, "shape": list(a.shape), "data_offsets": [off, off + len(blob)]}
        blobs.append(blob)
        off += len(blob)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    h = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


class Weights:
    """A model's weights as attnplay reads them: a PyTorch state_dict's names (SPEC section 5), float32, and the
    vocabulary (the header's __metadata__["vocab"], a JSON list of strings)."""

    def __init__(self, tensors, vocab=None, metadata=None):
        self.tensors = {}
        for name, t in dict(tensors).items():
            a = to_numpy(t, f"weights[{name!r}]")
            if not np.isfinite(a).all():
                raise AttnplayError(f"weights[{name!r}]: holds NaN or infinite values")
            self.tensors[str(name)] = np.ascontiguousarray(a, dtype=np.float32)
        self.metadata = dict(metadata or {})
        if vocab is not None:
            vocab = list(vocab)
            for i, v in enumerate(vocab):
                if not isinstance(v, str):
                    raise AttnplayError(f"vocab[{i}]: expected a string, got {type(v).__name__}")
            self.metadata["vocab"] = json.dumps(vocab, ensure_ascii=False)

    @property
    def vocab(self):
        """The vocabulary (list of str), or None when the file has none."""
        v = self.metadata.get("vocab")
        return json.loads(v) if v else None

    def state_dict(self):
        """{name: torch.Tensor} for nn.Module.load_state_dict (needs torch)."""
        import torch
        return {k: torch.from_numpy(v.copy()) for k, v in self.tensors.items()}

    def to_bytes(self):
        return safetensors_write(self.tensors, self.metadata)

    def save(self, path):
        _write(path, self.to_bytes())

    def __repr__(self):
        v = self.vocab
        return f"attnplay.Weights({len(self.tensors)} tensors, vocab of {len(v) if v else 0})"


class AttentionMaps:
    """Attention maps from another model: attention [layers, heads, n_q, n_k] float32, tokens and key_tokens."""

    def __init__(self, attention, tokens=None, key_tokens=None):
        self.attention, self.tokens, self.key_tokens = attention, tokens, key_tokens

    def to_bytes(self):
        meta = {}
        if self.tokens is not None:
            meta["tokens"] = json.dumps(list(self.tokens), ensure_ascii=False)
        if self.key_tokens is not None:
            meta["key_tokens"] = json.dumps(list(self.key_tokens), ensure_ascii=False)
        return safetensors_write({"attention": np.ascontiguousarray(self.attention, dtype=np.float32)}, meta)

    def save(self, path):
        _write(path, self.to_bytes())

    def __repr__(self):
        return f"attnplay.AttentionMaps(shape {tuple(self.attention.shape)})"


class Workspace:
    """A workspace record (File -> Export -> Workspace, the autosave): header (magic, schema, length, CRC-32s) and a
    safetensors payload. .state is its JSON (sides a and b, view, preset, training); .tensors its weights and curves."""

    def __init__(self, state, tensors, version=WORKSPACE_VERSION):
        self.state, self.tensors, self.version = state, tensors, version

    @property
    def config(self):
        """The config of the side the controls edit (side a)."""
        return self.state["a"]["config"]

    def weights(self, side="a"):
        """Side a's (or b's) trained or loaded weights as Weights, or None when they are seeded from the config."""
        s = self.state.get(side)
        if not s or s.get("weights") is None:
            return None
        pre = side + "/"
        return Weights({k[len(pre):]: v for k, v in self.tensors.items() if k.startswith(pre)}, metadata=s["weights"])

    @property
    def training(self):
        """The Train panel's session ({"step", "spec", "config", "loss", "accuracy", "alignment"}), or None."""
        t = self.state.get("training")
        if not t:
            return None
        out = dict(t)
        for k in ("loss", "accuracy", "alignment"):
            out[k] = self.tensors.get("train/" + k, np.zeros(0, np.float32)).tolist()
        return out

    def to_bytes(self):
        payload = safetensors_write(self.tensors, {"attnplay.workspace": json.dumps(self.state, separators=(",", ":"))})
        head = _WORKSPACE_MAGIC + struct.pack("<IIQI", self.version, 0, len(payload), zlib.crc32(payload))
        return head + struct.pack("<I", zlib.crc32(head)) + payload

    def save(self, path):
        _write(path, self.to_bytes())

    def __repr__(self):
        t = self.state.get("training")
        return f"attnplay.Workspace(mode {self.config.get('mode', 'attention')!r}" + (f", trained to step {t['step']})" if t else ")")


def workspace_read(data, what="workspace"):
    """Record bytes -> Workspace, with the checks (and the words) of src/model/workspace.cpp."""
    def corrupt(why):
        return AttnplayError(f"{what}: saved state is corrupt ({why})")
    if len(data) < 32:
        raise corrupt("truncated")
    if zlib.crc32(data[:28]) != struct.unpack("<I", data[28:32])[0]:
        raise corrupt("header")
    version, _, length, crc = struct.unpack("<IIQI", data[8:28])
    if version > WORKSPACE_VERSION:
        raise AttnplayError(f"{what}: saved state is from a newer attnplay (schema {version}; this package reads "
                            f"{WORKSPACE_VERSION})")
    if version == 0:
        raise corrupt("header")
    if length > len(data) - 32:
        raise corrupt("truncated")
    if length < len(data) - 32:
        raise corrupt("trailing bytes")
    payload = bytes(data[32:])
    if zlib.crc32(payload) != crc:
        raise corrupt("checksum")
    tensors, meta = safetensors_read(payload, what)
    try:
        state = json.loads(meta["attnplay.workspace"])
    except (KeyError, ValueError):
        raise corrupt("no attnplay.workspace metadata") from None
    return Workspace(state, tensors, version)


def read_bytes(data, name):
    """Bytes of any attnplay file -> Weights | Workspace | AttentionMaps."""
    data = bytes(data)
    if data[:8] == _WORKSPACE_MAGIC:
        return workspace_read(data, name)
    if data[:6] == b"\x93NUMPY":
        return AttentionMaps(np.load(io.BytesIO(data), allow_pickle=False))
    if data[:4] == b"PK\x03\x04":
        z = np.load(io.BytesIO(data), allow_pickle=False)
        if "attention" not in z:
            raise AttnplayError(f"{name}: an .npz without an \"attention\" array")
        tok = lambda k: [str(t) for t in z[k]] if k in z else None  # noqa: E731
        return AttentionMaps(z["attention"], tok("tokens"), tok("key_tokens"))
    tensors, meta = safetensors_read(data, name)
    if "attention" in tensors:
        tok = lambda k: json.loads(meta[k]) if k in meta else None  # noqa: E731
        return AttentionMaps(tensors["attention"], tok("tokens"), tok("key_tokens"))
    return Weights(tensors, metadata=meta)


def _write(path, data):
    with open(path, "wb") as f:
        f.write(data)
