// attnplay platform: the frame both platforms run around app_frame, so desktop.cpp and main_web.cpp differ only in
// their windows, events and loops (sokol_app's split).
//
//   PlatformGlHost          the AppHost both platforms share: heatmaps on the GL renderer (render/heatmap_renderer.h)
//   platform_clear          the viewport and the background colour (frames and PNG captures)
//   platform_frame          fonts -> backends' NewFrame -> ImGui::NewFrame -> app_frame -> Render -> draw -> PNG export
#pragma once

#include "render/heatmap_renderer.h"
#include "ui/app.h"

#include <string>

namespace attnplay {

// The host both platforms share: heatmaps on the GL renderer, and its GL strings for About.
struct PlatformGlHost : AppHost {
  Renderer* renderer = nullptr;
  PlatformGlHost(Renderer* r, const std::string& platform_name);
  unsigned heatmap(const std::string& slot, const float* data, int rows, int cols, HeatmapStyle style, float vmin,
                   float vmax, uint64_t version, int max_pixels) override;
};
void     platform_clear(int fb_w, int fb_h);

struct PlatformFrameSize {
  int fb_w = 0, fb_h = 0;                  // drawing buffer in device pixels
  float display_w = 0, display_h = 0;      // the window in ImGui's (CSS) units
  float fb_scale = 1;                      // device pixels per unit
  bool set_display = false;                // write display/fb_scale into ImGuiIO (web: the canvas's CSS box);
                                           //   false: the SDL backend's values stand (desktop)
};
void platform_frame(App* app, Renderer* renderer, const PlatformFrameSize& size);

}  // namespace attnplay
