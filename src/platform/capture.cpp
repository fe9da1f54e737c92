// attnplay platform: offscreen re-render for PNG exports. Contracts: capture.h.
#include "platform/capture.h"

#include "platform/frame.h"

#include <imgui_impl_opengl3.h>

#if defined(__EMSCRIPTEN__)
#include <GLES3/gl3.h>
#else
#define GL_GLEXT_PROTOTYPES 1
#include <GL/gl.h>
#include <GL/glext.h>
#endif

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#include <stb/stb_image_write.h>

#include <cfloat>
#include <vector>

namespace attnplay {

static void append_bytes(void* ctx, void* data, int size) {
  static_cast<std::string*>(ctx)->append(static_cast<const char*>(data), size_t(size));
}

std::string png_encode(const unsigned char* rgba, int w, int h) {
  std::string out;
  stbi_write_png_to_func(append_bytes, &out, w, h, 4, rgba, w * 4);
  return out;
}

static void rebuild_fonts(App* app) {
  if (app_fonts_build_if_needed(app)) {
    ImGui_ImplOpenGL3_DestroyFontsTexture();
    ImGui_ImplOpenGL3_CreateFontsTexture();
  }
}

bool capture_png(App* app, float display_w, float display_h, float scale, const std::array<float, 4>& rect,
                 std::string* png, std::string* error) {
  const int W = int(display_w * scale + 0.5f), H = int(display_h * scale + 0.5f);
  GLint max_rb = 0;
  glGetIntegerv(GL_MAX_RENDERBUFFER_SIZE, &max_rb);
  if (W <= 0 || H <= 0 || W > max_rb || H > max_rb) {
    *error = "the window is too large to export at this scale";
    return false;
  }
  ImGuiIO& io = ImGui::GetIO();
  const float old_scale = app->ui_scale;
  const ImVec2 old_size = io.DisplaySize, old_fb = io.DisplayFramebufferScale, old_mouse = io.MousePos;
  GLint prev_fbo = 0, prev_viewport[4];
  glGetIntegerv(GL_FRAMEBUFFER_BINDING, &prev_fbo);
  glGetIntegerv(GL_VIEWPORT, prev_viewport);
  GLuint fbo = 0, tex = 0;
  glGenTextures(1, &tex);
  glBindTexture(GL_TEXTURE_2D, tex);
  glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, W, H, 0, GL_RGBA, GL_UNSIGNED_BYTE, nullptr);
  glGenFramebuffers(1, &fbo);
  glBindFramebuffer(GL_FRAMEBUFFER, fbo);
  glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, tex, 0);
  const bool complete = glCheckFramebufferStatus(GL_FRAMEBUFFER) == GL_FRAMEBUFFER_COMPLETE;
  if (complete) {
    app->ui_scale = old_scale * scale;
    rebuild_fonts(app);
    io.DisplaySize = ImVec2(float(W), float(H));
    io.DisplayFramebufferScale = ImVec2(1, 1);
    io.MousePos = ImVec2(-FLT_MAX, -FLT_MAX);  // no hover, no tooltip in print
    ImGui_ImplOpenGL3_NewFrame();
    ImGui::NewFrame();
    app_frame(app);
    ImGui::Render();
    platform_clear(W, H);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
    // Read the rectangle (GL rows go bottom-up).
    const int x0 = std::max(0, int(rect[0] * scale)), y0 = std::max(0, int(rect[1] * scale));
    const int w = std::min(W - x0, int(rect[2] * scale + 0.5f)), h = std::min(H - y0, int(rect[3] * scale + 0.5f));
    std::vector<unsigned char> px(size_t(std::max(w, 1)) * size_t(std::max(h, 1)) * 4), flipped(px.size());
    glPixelStorei(GL_PACK_ALIGNMENT, 1);
    glReadPixels(x0, H - y0 - h, w, h, GL_RGBA, GL_UNSIGNED_BYTE, px.data());
    for (int r = 0; r < h; ++r)
      std::copy(px.begin() + long(r) * w * 4, px.begin() + long(r + 1) * w * 4, flipped.begin() + long(h - 1 - r) * w * 4);
    for (size_t k = 3; k < flipped.size(); k += 4) flipped[k] = 255;  // opaque, whatever the framebuffer's alpha
    *png = png_encode(flipped.data(), w, h);
  } else {
    *error = "cannot render offscreen (framebuffer incomplete)";
  }
  glBindFramebuffer(GL_FRAMEBUFFER, GLuint(prev_fbo));
  glViewport(prev_viewport[0], prev_viewport[1], prev_viewport[2], prev_viewport[3]);
  glDeleteFramebuffers(1, &fbo);
  glDeleteTextures(1, &tex);
  app->ui_scale = old_scale;
  io.DisplaySize = old_size;
  io.DisplayFramebufferScale = old_fb;
  io.MousePos = old_mouse;
  rebuild_fonts(app);
  return complete;
}

void capture_service(App* app, float display_w, float display_h) {
  const AppCapture kind = app->capture;
  if (kind == APP_CAPTURE_NONE) return;
  app->capture = APP_CAPTURE_NONE;
  const std::array<float, 4> rect = kind == APP_CAPTURE_VIEWS ? app->capture_rect : std::array<float, 4>{0, 0, display_w, display_h};
  std::string png, error;
  if (capture_png(app, display_w, display_h, kind == APP_CAPTURE_VIEWS ? 2.0f : 1.0f, rect, &png, &error))
    app_deliver_file(app, kind == APP_CAPTURE_VIEWS ? "attnplay-view@2x.png" : "attnplay-window.png", "image/png", png);
  else
    app->notices.push_back(error);
}

}  // namespace attnplay
