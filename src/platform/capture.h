// attnplay platform: PNG exports (File -> Export). The frame is drawn again into an offscreen framebuffer with
// the UI scale and display size multiplied, so text and lines are re-rasterised sharp at 2x rather than
// upscaled, then the requested rectangle is read back and encoded.
#pragma once

#include "ui/app.h"

#include <string>

namespace attnplay {

// display: the window in ImGui units. rect: {x, y, w, h} in the same units. scale: 1 or 2.
bool capture_png(App* app, float display_w, float display_h, float scale, const std::array<float, 4>& rect,
                 std::string* png, std::string* error);
// Runs app->capture (if any) and hands the PNG to app_deliver_file. Call after the frame was drawn.
void capture_service(App* app, float display_w, float display_h);
// RGBA8 rows (top row first) -> PNG bytes.
std::string png_encode(const unsigned char* rgba, int w, int h);

}  // namespace attnplay
