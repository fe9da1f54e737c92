// attnplay platform: the shared frame. Contracts: frame.h.
#include "platform/frame.h"

#include "platform/capture.h"

#include <imgui.h>
#include <imgui_impl_opengl3.h>
#include <imgui_impl_sdl.h>

#if defined(__EMSCRIPTEN__)
#include <GLES3/gl3.h>
#else
#define GL_GLEXT_PROTOTYPES 1
#include <GL/gl.h>
#endif

namespace attnplay {

PlatformGlHost::PlatformGlHost(Renderer* r, const std::string& platform_name) : renderer(r) {
  platform = platform_name;
  gl_version = r->gl_version;
  glsl_version = r->glsl_version;
  gl_renderer = r->gl_renderer;
}

unsigned PlatformGlHost::heatmap(const std::string& slot, const float* data, int rows, int cols, HeatmapStyle style,
                                 float vmin, float vmax, uint64_t version, int max_pixels) {
  return renderer_heatmap(renderer, slot, data, rows, cols, style, vmin, vmax, version, max_pixels);
}

void platform_clear(int fb_w, int fb_h) {
  glViewport(0, 0, fb_w, fb_h);
  glClearColor(0.94f, 0.94f, 0.94f, 1.0f);
  glClear(GL_COLOR_BUFFER_BIT);
}

void platform_frame(App* app, Renderer* renderer, const PlatformFrameSize& size) {
  if (app_fonts_build_if_needed(app)) {  // new glyphs or a new UI scale: the atlas goes to the GPU again
    ImGui_ImplOpenGL3_DestroyFontsTexture();
    ImGui_ImplOpenGL3_CreateFontsTexture();
  }
  ImGui_ImplOpenGL3_NewFrame();
  ImGui_ImplSDL2_NewFrame();
  if (size.set_display) {
    ImGuiIO& io = ImGui::GetIO();
    io.DisplaySize = ImVec2(size.display_w, size.display_h);
    io.DisplayFramebufferScale = ImVec2(size.fb_scale, size.fb_scale);
  }
  ImGui::NewFrame();
  renderer_begin_frame(renderer);
  app_frame(app);
  ImGui::Render();
  platform_clear(size.fb_w, size.fb_h);
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
  capture_service(app, size.display_w, size.display_h);  // File -> Export -> PNG, if asked this frame
}

}  // namespace attnplay
