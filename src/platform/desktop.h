// attnplay platform: the native desktop app (SDL2 + OpenGL 3.3 core + Dear ImGui).
//
//   attnplay [--config FILE] [--fresh] [--size WxH] [--screenshot PNG [--screenshot-frame N]] [--frames N]
//     the workspace (model/workspace.h) is saved to $XDG_DATA_HOME/attnplay/workspace.attnplay (~/.local/share
//     without XDG_DATA_HOME) a second after each change, atomically, and restored at start; --fresh or --config
//     start without it (it stays until the next save)
//     --screenshot  writes the window's pixels after frame N (default 30) and keeps running
//     --frames      closes the window after N frames through the normal close path (an SDL_QUIT event)
// SIGINT/SIGTERM and the window's close button end it the same way: a clean shutdown, exit code 0.
#pragma once

namespace attnplay {

int desktop_main(int argc, char** argv);

}  // namespace attnplay
