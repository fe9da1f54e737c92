// attnplay render: matrices -> colour-mapped GL textures, by the shaders in shaders/ (GLSL ES 3.0 on the web,
// GLSL 3.30 core on the desktop; the #version line is prefixed at load). ImGui draws the textures; labels and
// overlays stay in src/ui.
//
// Dimension glossary: rows x cols = the matrix (n_q x n_k for attention); out_w x out_h = texture pixels.
//
// Index
//   renderer_init / renderer_shutdown     GL objects; needs a current context (ES 3.0 / WebGL2 or GL 3.3 core)
//   renderer_begin_frame                  once per frame, before the UI: textures drawn this frame are never evicted
//   renderer_heatmap                      cached by (slot, version): the matrix is uploaded and colour-mapped
//                                         only when its version changes; the cache is bounded by bytes (LRU)
//   renderer_gl_version                   GL_VERSION / GL_SHADING_LANGUAGE_VERSION, for the About panel
#pragma once

#include "render/heatmap_style.h"

#include <cstdint>
#include <map>
#include <string>

namespace attnplay {

struct HeatmapTexture {
  unsigned color_tex = 0, data_tex = 0, fbo = 0;
  int rows = 0, cols = 0, out_w = 0, out_h = 0;
  uint64_t version = ~0ull;
  int style = -1;
  float vmin = 0, vmax = 0;
  uint64_t bytes = 0;            // GPU memory of data_tex + color_tex
  uint64_t used_frame = 0;       // the last frame that asked for it
};

struct Renderer {
  bool ready = false;
  bool gles = false;
  unsigned program = 0, vao = 0, vbo = 0;
  int loc_data = -1, loc_style = -1, loc_vmin = -1, loc_vmax = -1, loc_out = -1;
  int max_texture_size = 4096;
  std::string gl_version, glsl_version, gl_renderer, error;
  std::map<std::string, HeatmapTexture> cache;
  // At 4096 tokens one head's weights are 64 MiB of R32F: every head a user visits would stay on the GPU. Textures
  // not drawn in the current frame are freed, least recently used first, while the cache holds more than this.
  uint64_t budget_bytes = 192ull << 20;
  uint64_t bytes = 0;            // held by the cache now
  uint64_t frame = 1;
};

bool     renderer_init(Renderer* r, bool gles);      // compiles the shaders; false and r->error on failure
void     renderer_shutdown(Renderer* r);
void     renderer_begin_frame(Renderer* r);
// data [rows, cols] row-major (values > 1e37 = masked). max_pixels > 0 downsamples to at most that many pixels
// per side (thumbnails, matrices larger than their place on screen): each pixel is its block's mean. Returns the GL texture name of the coloured image (0 if not ready or empty).
unsigned renderer_heatmap(Renderer* r, const std::string& slot, const float* data, int rows, int cols,
                          HeatmapStyle style, float vmin, float vmax, uint64_t version, int max_pixels = 0);
void     renderer_forget(Renderer* r, const std::string& slot_prefix);  // frees cached textures whose slot starts so

}  // namespace attnplay
