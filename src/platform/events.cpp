// attnplay platform: event pump. Contracts: events.h.
#include "platform/events.h"

#include <imgui.h>
#include <imgui_impl_sdl.h>

#include <algorithm>

namespace attnplay {

static void feed(const SDL_Event& e) {
  ImGui_ImplSDL2_ProcessEvent(&e);
  if (e.type == SDL_KEYDOWN || e.type == SDL_KEYUP) {
    ImGuiIO& io = ImGui::GetIO();
    const Uint16 mod = e.key.keysym.mod;
    io.KeyCtrl = (mod & KMOD_CTRL) != 0;
    io.KeyShift = (mod & KMOD_SHIFT) != 0;
    io.KeyAlt = (mod & KMOD_ALT) != 0;
    io.KeySuper = (mod & KMOD_GUI) != 0;
  }
}

void events_pump(EventPump* pump, const std::function<void(const SDL_Event&)>& handle) {
  std::vector<SDL_Event> held;
  held.swap(pump->deferred);
  for (const SDL_Event& e : held) {
    feed(e);
    handle(e);
  }
  std::vector<SDL_Scancode> pressed;  // keys that went down during this poll
  SDL_Event e;
  while (SDL_PollEvent(&e)) {
    if (e.type == SDL_KEYDOWN) pressed.push_back(e.key.keysym.scancode);
    if (e.type == SDL_KEYUP && std::find(pressed.begin(), pressed.end(), e.key.keysym.scancode) != pressed.end()) {
      pump->deferred.push_back(e);  // seen as pressed this frame, released next frame
      continue;
    }
    feed(e);
    handle(e);
  }
}

}  // namespace attnplay
