// attnplay render: heatmap textures. Contracts: heatmap_renderer.h.
#include "render/heatmap_renderer.h"

#if defined(__EMSCRIPTEN__)
#include <GLES3/gl3.h>
#else
#define GL_GLEXT_PROTOTYPES 1
#include <GL/gl.h>
#include <GL/glext.h>
#endif

#include <algorithm>
#include <vector>

namespace attnplay {

const char* shader_source(const char* name);  // generated from shaders/ (cmake/embed_shaders.cmake)

static unsigned compile(unsigned kind, const std::string& src, std::string* error) {
  const unsigned s = glCreateShader(kind);
  const char* p = src.c_str();
  glShaderSource(s, 1, &p, nullptr);
  glCompileShader(s);
  GLint ok = 0;
  glGetShaderiv(s, GL_COMPILE_STATUS, &ok);
  if (!ok) {
    char log[1024] = {0};
    glGetShaderInfoLog(s, sizeof log, nullptr, log);
    *error = std::string("shader compile failed: ") + log;
    glDeleteShader(s);
    return 0;
  }
  return s;
}

bool renderer_init(Renderer* r, bool gles) {
  r->gles = gles;
  const char* v = reinterpret_cast<const char*>(glGetString(GL_VERSION));
  const char* sl = reinterpret_cast<const char*>(glGetString(GL_SHADING_LANGUAGE_VERSION));
  const char* rn = reinterpret_cast<const char*>(glGetString(GL_RENDERER));
  r->gl_version = v ? v : "?";
  r->glsl_version = sl ? sl : "?";
  r->gl_renderer = rn ? rn : "?";
  glGetIntegerv(GL_MAX_TEXTURE_SIZE, &r->max_texture_size);
  const std::string prefix = gles ? "#version 300 es\nprecision highp float;\nprecision highp int;\nprecision highp sampler2D;\n"
                                  : "#version 330 core\n";
  const char* vs_src = shader_source("heatmap.vert.glsl");
  const char* fs_src = shader_source("heatmap.frag.glsl");
  if (!vs_src || !fs_src) {
    r->error = "embedded shaders missing";
    return false;
  }
  const unsigned vs = compile(GL_VERTEX_SHADER, prefix + vs_src, &r->error);
  const unsigned fs = vs ? compile(GL_FRAGMENT_SHADER, prefix + fs_src, &r->error) : 0;
  if (!vs || !fs) return false;
  r->program = glCreateProgram();
  glAttachShader(r->program, vs);
  glAttachShader(r->program, fs);
  glBindAttribLocation(r->program, 0, "a_pos");
  glLinkProgram(r->program);
  glDeleteShader(vs);
  glDeleteShader(fs);
  GLint ok = 0;
  glGetProgramiv(r->program, GL_LINK_STATUS, &ok);
  if (!ok) {
    char log[1024] = {0};
    glGetProgramInfoLog(r->program, sizeof log, nullptr, log);
    r->error = std::string("shader link failed: ") + log;
    return false;
  }
  r->loc_data = glGetUniformLocation(r->program, "u_data");
  r->loc_style = glGetUniformLocation(r->program, "u_style");
  r->loc_vmin = glGetUniformLocation(r->program, "u_vmin");
  r->loc_vmax = glGetUniformLocation(r->program, "u_vmax");
  r->loc_out = glGetUniformLocation(r->program, "u_out");
  const float quad[] = {0, 0, 1, 0, 0, 1, 1, 1};
  glGenVertexArrays(1, &r->vao);
  glGenBuffers(1, &r->vbo);
  glBindVertexArray(r->vao);
  glBindBuffer(GL_ARRAY_BUFFER, r->vbo);
  glBufferData(GL_ARRAY_BUFFER, sizeof quad, quad, GL_STATIC_DRAW);
  glEnableVertexAttribArray(0);
  glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, 0, nullptr);
  glBindVertexArray(0);
  r->ready = true;
  return true;
}

// A nearest-sampled, edge-clamped 2-D texture of the given storage (cells stay crisp at any zoom).
static unsigned make_texture(GLenum internal, int w, int h, GLenum format, GLenum type) {
  unsigned tex = 0;
  glGenTextures(1, &tex);
  glBindTexture(GL_TEXTURE_2D, tex);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
  glTexImage2D(GL_TEXTURE_2D, 0, GLint(internal), w, h, 0, format, type, nullptr);
  return tex;
}

static void free_texture(Renderer* r, HeatmapTexture* t) {
  if (t->fbo) glDeleteFramebuffers(1, &t->fbo);
  if (t->color_tex) glDeleteTextures(1, &t->color_tex);
  if (t->data_tex) glDeleteTextures(1, &t->data_tex);
  r->bytes -= std::min(r->bytes, t->bytes);
  *t = HeatmapTexture();
}

void renderer_begin_frame(Renderer* r) { ++r->frame; }

// Frees least recently used textures (never one drawn this frame) until the cache fits its budget.
static void renderer_evict(Renderer* r) {
  while (r->bytes > r->budget_bytes) {
    auto lru = r->cache.end();
    for (auto it = r->cache.begin(); it != r->cache.end(); ++it)
      if (it->second.bytes && it->second.used_frame < r->frame && (lru == r->cache.end() || it->second.used_frame < lru->second.used_frame))
        lru = it;
    if (lru == r->cache.end()) return;  // everything held is on screen now
    free_texture(r, &lru->second);
    r->cache.erase(lru);
  }
}

void renderer_forget(Renderer* r, const std::string& slot_prefix) {
  for (auto it = r->cache.begin(); it != r->cache.end();) {
    if (it->first.rfind(slot_prefix, 0) == 0) {
      free_texture(r, &it->second);
      it = r->cache.erase(it);
    } else {
      ++it;
    }
  }
}

void renderer_shutdown(Renderer* r) {
  renderer_forget(r, "");
  if (r->program) glDeleteProgram(r->program);
  if (r->vbo) glDeleteBuffers(1, &r->vbo);
  if (r->vao) glDeleteVertexArrays(1, &r->vao);
  *r = Renderer();
}

unsigned renderer_heatmap(Renderer* r, const std::string& slot, const float* data, int rows, int cols,
                          HeatmapStyle style, float vmin, float vmax, uint64_t version, int max_pixels) {
  if (!r->ready || rows <= 0 || cols <= 0) return 0;
  HeatmapTexture& t = r->cache[slot];
  t.used_frame = r->frame;
  int out_w = cols, out_h = rows;
  if (max_pixels > 0) {
    out_w = std::min(out_w, max_pixels);
    out_h = std::min(out_h, max_pixels);
  }
  if (t.version == version && t.rows == rows && t.cols == cols && t.style == int(style) && t.vmin == vmin && t.vmax == vmax &&
      t.out_w == out_w && t.out_h == out_h)
    return t.color_tex;
  const int limit = std::max(1, r->max_texture_size);
  if (rows > limit || cols > limit) return 0;  // cannot upload: the UI shows a message instead
  // Everything below changes GL state that ImGui's backend relies on: save it first, restore it at the end.
  GLint prev_fbo = 0, prev_program = 0, prev_vao = 0, prev_tex = 0, prev_active = 0;
  GLint prev_viewport[4];
  glGetIntegerv(GL_FRAMEBUFFER_BINDING, &prev_fbo);
  glGetIntegerv(GL_CURRENT_PROGRAM, &prev_program);
  glGetIntegerv(GL_VERTEX_ARRAY_BINDING, &prev_vao);
  glGetIntegerv(GL_ACTIVE_TEXTURE, &prev_active);
  glActiveTexture(GL_TEXTURE0);
  glGetIntegerv(GL_TEXTURE_BINDING_2D, &prev_tex);
  glGetIntegerv(GL_VIEWPORT, prev_viewport);
  const GLboolean blend = glIsEnabled(GL_BLEND), scissor = glIsEnabled(GL_SCISSOR_TEST);
  if (t.rows != rows || t.cols != cols || t.out_w != out_w || t.out_h != out_h || !t.data_tex) {
    free_texture(r, &t);
    t.used_frame = r->frame;
    t.data_tex = make_texture(GL_R32F, cols, rows, GL_RED, GL_FLOAT);           // one texel per cell
    t.color_tex = make_texture(GL_RGBA8, out_w, out_h, GL_RGBA, GL_UNSIGNED_BYTE);  // what ImGui draws
    glGenFramebuffers(1, &t.fbo);
    glBindFramebuffer(GL_FRAMEBUFFER, t.fbo);
    glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, t.color_tex, 0);
    t.rows = rows;
    t.cols = cols;
    t.out_w = out_w;
    t.out_h = out_h;
    t.bytes = 4ull * uint64_t(rows) * uint64_t(cols) + 4ull * uint64_t(out_w) * uint64_t(out_h);
    r->bytes += t.bytes;
    renderer_evict(r);  // t is in use this frame: never the one freed
  }
  // Upload (rows are contiguous; unpack alignment 4 suits floats), then colour-map into the FBO.
  glBindTexture(GL_TEXTURE_2D, t.data_tex);
  glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
  glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, cols, rows, GL_RED, GL_FLOAT, data);
  glBindFramebuffer(GL_FRAMEBUFFER, t.fbo);
  glViewport(0, 0, out_w, out_h);
  glDisable(GL_BLEND);
  glDisable(GL_SCISSOR_TEST);
  glUseProgram(r->program);
  glUniform1i(r->loc_data, 0);
  glUniform1i(r->loc_style, int(style));
  glUniform1f(r->loc_vmin, vmin);
  glUniform1f(r->loc_vmax, vmax);
  glUniform2f(r->loc_out, float(out_w), float(out_h));
  glBindVertexArray(r->vao);
  glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
  glBindVertexArray(GLuint(prev_vao));
  glUseProgram(GLuint(prev_program));
  glBindTexture(GL_TEXTURE_2D, GLuint(prev_tex));
  glActiveTexture(GLenum(prev_active));
  glBindFramebuffer(GL_FRAMEBUFFER, GLuint(prev_fbo));
  glViewport(prev_viewport[0], prev_viewport[1], prev_viewport[2], prev_viewport[3]);
  if (blend) glEnable(GL_BLEND);
  if (scissor) glEnable(GL_SCISSOR_TEST);
  t.version = version;
  t.style = int(style);
  t.vmin = vmin;
  t.vmax = vmax;
  return t.color_tex;
}

}  // namespace attnplay
