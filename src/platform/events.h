// attnplay platform: SDL events -> Dear ImGui, with quick key taps kept.
//
// Dear ImGui 1.86 reads key state once per frame: a key pressed and released between two frames (a quick tap,
// or Ctrl+Z typed at 30 fps) would never be seen as pressed. Its release is therefore held back to the next frame.
// Modifier state is taken from each key event itself, not from SDL_GetModState() at processing time (by then a
// quickly released Ctrl is already up).
#pragma once

#include <SDL.h>

#include <functional>
#include <vector>

namespace attnplay {

struct EventPump {
  std::vector<SDL_Event> deferred;  // key releases held back from the previous frame
};

// Polls every pending event; `handle` sees each one (after ImGui did), e.g. for quit and file drops.
void events_pump(EventPump* pump, const std::function<void(const SDL_Event&)>& handle);

}  // namespace attnplay
