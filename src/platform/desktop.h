// attnplay platform: the native desktop app (SDL2 + OpenGL 3.3 core + Dear ImGui).
//
//   attnplay [--config FILE] [--size WxH] [--screenshot PNG [--screenshot-frame N]] [--frames N]
//     --screenshot  writes the window's pixels after frame N (default 30) and keeps running
//     --frames      closes the window after N frames through the normal close path (an SDL_QUIT event)
// SIGINT/SIGTERM and the window's close button end it the same way: a clean shutdown, exit code 0.
#pragma once

namespace attnplay {

int desktop_main(int argc, char** argv);

}  // namespace attnplay
