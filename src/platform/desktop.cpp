// attnplay platform: native desktop loop. Contracts: desktop.h. The app itself is src/ui (init/frame/shutdown).
#include "platform/desktop.h"

#include "render/heatmap_renderer.h"
#include "ui/app.h"

#include <SDL.h>
#include <imgui_impl_opengl3.h>
#include <imgui_impl_sdl.h>

#define GL_GLEXT_PROTOTYPES 1
#include <SDL_opengl.h>

#include "platform/capture.h"
#include "platform/file_atomic.h"
#include "platform/frame.h"
#include "platform/events.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace attnplay {

static bool read_file(const std::string& path, std::vector<uint8_t>* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  out->assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  return !out->empty();
}

// The build's CJK subset beside the executable, else the Debian font it was cut from.
static void load_font(App* app) {
  std::vector<uint8_t> bytes;
  std::string base;
  if (char* b = SDL_GetBasePath()) {
    base = b;
    SDL_free(b);
  }
  for (const std::string& path : {base + "fonts/attnplay-cjk.ttf", std::string("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")})
    if (read_file(path, &bytes)) {
      app_set_font(app, bytes.data(), bytes.size(), path);
      return;
    }
  std::fprintf(stderr, "attnplay: no CJK font found (install fonts-wqy-microhei); using ImGui's default font\n");
}

// The autosave file: $XDG_DATA_HOME/attnplay/workspace.attnplay (XDG's default: ~/.local/share). "" without either.
static std::string workspace_dir() {
  const char* xdg = std::getenv("XDG_DATA_HOME");
  if (xdg && xdg[0] == '/') return std::string(xdg) + "/attnplay";
  const char* home = std::getenv("HOME");
  return home && home[0] ? std::string(home) + "/.local/share/attnplay" : std::string();
}

// The last session back, unless --fresh or --config chose otherwise. A record that fails its checks is refused by
// name and moved aside (workspace.attnplay.refused: the user can still export it), never half-applied.
static void restore_workspace(App* app, const std::string& path) {
  std::vector<uint8_t> bytes;
  if (!read_file(path, &bytes)) return;  // nothing saved yet
  Workspace ws;
  std::string error;
  char buf[512];
  if (workspace_decode(bytes.data(), bytes.size(), &ws, &error) && app_workspace_apply(app, ws, &error)) {
    std::snprintf(buf, sizeof buf, tr(S_WORKSPACE_RESTORED_STEP), std::to_string(ws.training.state.step).c_str());
    app->notices.push_back(ws.training.present ? buf : tr(S_WORKSPACE_RESTORED));
    std::printf("attnplay: restored %s\n", path.c_str());
    return;
  }
  std::snprintf(buf, sizeof buf, tr(S_WORKSPACE_NOT_RESTORED), error.c_str());
  app->notices.push_back(buf);
  std::fprintf(stderr, "attnplay: %s: %s; starting fresh\n", path.c_str(), error.c_str());
  std::rename(path.c_str(), (path + ".refused").c_str());
}

static bool write_screenshot(const std::string& path, int w, int h) {
  std::vector<uint8_t> px(size_t(w) * h * 4), rows(px.size());
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadPixels(0, 0, w, h, GL_RGBA, GL_UNSIGNED_BYTE, px.data());
  for (int r = 0; r < h; ++r) std::copy(px.begin() + long(r) * w * 4, px.begin() + long(r + 1) * w * 4, rows.begin() + long(h - 1 - r) * w * 4);
  for (size_t k = 3; k < rows.size(); k += 4) rows[k] = 255;
  const std::string png = png_encode(rows.data(), w, h);
  std::ofstream f(path, std::ios::binary);
  return f && f.write(png.data(), std::streamsize(png.size()));
}

int desktop_main(int argc, char** argv) {
  std::string config_path, screenshot;
  int width = 1280, height = 720, frames = 0, screenshot_frame = 30;
  bool fresh = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "attnplay: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--config") config_path = next();
    else if (a == "--fresh") fresh = true;
    else if (a == "--screenshot") screenshot = next();
    else if (a == "--screenshot-frame") screenshot_frame = std::atoi(next().c_str());
    else if (a == "--frames") frames = std::atoi(next().c_str());
    else if (a == "--size") {
      const std::string v = next();
      if (std::sscanf(v.c_str(), "%dx%d", &width, &height) != 2 || width < 200 || height < 200) {
        std::fprintf(stderr, "attnplay: --size must be WIDTHxHEIGHT, at least 200x200 (got %s)\n", v.c_str());
        return 2;
      }
    } else {
      std::fprintf(stderr, "attnplay: unknown option %s (see attnplay --help)\n", a.c_str());
      return 2;
    }
  }
  nlohmann::json config = nlohmann::json::object();
  if (!config_path.empty()) {
    std::vector<uint8_t> bytes;
    if (!read_file(config_path, &bytes)) {
      std::fprintf(stderr, "attnplay: %s: cannot read\n", config_path.c_str());
      return 2;
    }
    const std::string text(bytes.begin(), bytes.end());
    if (json_nesting_ok(text)) config = nlohmann::json::parse(text, nullptr, false);
    else config = nlohmann::json();
    if (config.is_discarded() || !config.is_object()) {
      std::fprintf(stderr, "attnplay: %s: not a JSON object\n", config_path.c_str());
      return 2;
    }
  }
  if (SDL_Init(SDL_INIT_VIDEO | SDL_INIT_TIMER) != 0) {
    std::fprintf(stderr, "attnplay: cannot start SDL video: %s\n", SDL_GetError());
    return 1;
  }
  SDL_GL_SetAttribute(SDL_GL_CONTEXT_FLAGS, 0);
  SDL_GL_SetAttribute(SDL_GL_CONTEXT_PROFILE_MASK, SDL_GL_CONTEXT_PROFILE_CORE);
  SDL_GL_SetAttribute(SDL_GL_CONTEXT_MAJOR_VERSION, 3);
  SDL_GL_SetAttribute(SDL_GL_CONTEXT_MINOR_VERSION, 3);
  SDL_GL_SetAttribute(SDL_GL_DOUBLEBUFFER, 1);
  SDL_Window* window = SDL_CreateWindow("attnplay — attention playground", SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED,
                                        width, height, SDL_WINDOW_OPENGL | SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI);
  if (!window) {
    std::fprintf(stderr, "attnplay: cannot open a window: %s\n", SDL_GetError());
    SDL_Quit();
    return 1;
  }
  SDL_GLContext gl = SDL_GL_CreateContext(window);
  if (!gl) {
    std::fprintf(stderr, "attnplay: cannot create an OpenGL 3.3 context: %s\n", SDL_GetError());
    SDL_DestroyWindow(window);
    SDL_Quit();
    return 1;
  }
  SDL_GL_MakeCurrent(window, gl);
  SDL_GL_SetSwapInterval(1);

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGui_ImplSDL2_InitForOpenGL(window, gl);
  ImGui_ImplOpenGL3_Init("#version 330");
  Renderer renderer;
  if (!renderer_init(&renderer, false)) std::fprintf(stderr, "attnplay: heatmap renderer: %s\n", renderer.error.c_str());
  App* app = new App();
  app->host = std::make_shared<PlatformGlHost>(&renderer, "desktop (SDL2 + OpenGL 3.3 core)");
  std::string error;
  app_init(app, config, &error);
  app_use_local_models(app);  // File > Open model...: the folder computed natively, in this thread
  if (!error.empty()) std::fprintf(stderr, "attnplay: %s (using the defaults)\n", error.c_str());
  load_font(app);
  const std::string data_dir = workspace_dir(), workspace_path = data_dir.empty() ? "" : data_dir + "/workspace.attnplay";
  if (!fresh && config_path.empty() && !workspace_path.empty()) restore_workspace(app, workspace_path);
  AppAutosave autosave;
  app_autosave_start(&autosave, *app);
  bool autosave_failed = false;
  const auto save_now = [&]() {
    if (workspace_path.empty() || autosave_failed) return;
    std::string error;
    if (file_write_atomic(data_dir, workspace_path, app_autosave_record(app, &autosave), &error)) return;
    autosave_failed = true;  // one notice; the app keeps working, the config still exports by hand
    char buf[512];
    std::snprintf(buf, sizeof buf, tr(S_WORKSPACE_NOT_SAVED), error.c_str());
    app->notices.push_back(buf);
    std::fprintf(stderr, "attnplay: autosave: %s\n", error.c_str());
  };

  bool running = true;
  int frame = 0;
  EventPump pump;
  while (running) {
    events_pump(&pump, [&](const SDL_Event& e) {
      if (e.type == SDL_QUIT) running = false;
      if (e.type == SDL_DROPFILE && e.drop.file) {  // a config .json dropped on the window
        std::vector<uint8_t> bytes;
        if (read_file(e.drop.file, &bytes)) app_import(app, std::string(bytes.begin(), bytes.end()), e.drop.file);
        else app->notices.push_back(std::string(e.drop.file) + ": cannot read");
        SDL_free(e.drop.file);
      }
      if (e.type == SDL_WINDOWEVENT && e.window.event == SDL_WINDOWEVENT_CLOSE && e.window.windowID == SDL_GetWindowID(window))
        running = false;
    });
    if (!running) break;
    PlatformFrameSize size;
    int ww, wh;
    SDL_GL_GetDrawableSize(window, &size.fb_w, &size.fb_h);
    SDL_GetWindowSize(window, &ww, &wh);
    size.display_w = float(ww);
    size.display_h = float(wh);
    platform_frame(app, &renderer, size);
    app->state.changed = false;  // the desktop has no on("change") listeners
    const int fw = size.fb_w, fh = size.fb_h;
    ++frame;
    if (!screenshot.empty() && frame == screenshot_frame) {
      if (write_screenshot(screenshot, fw, fh)) std::printf("attnplay: wrote %s (%dx%d)\n", screenshot.c_str(), fw, fh);
      else std::fprintf(stderr, "attnplay: cannot write %s\n", screenshot.c_str());
      std::fflush(stdout);
    }
    SDL_GL_SwapWindow(window);
    const double now = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
    if (app_autosave_due(&autosave, *app, now)) save_now();
    if (frames > 0 && frame == frames) {  // leave through the same path as a window close
      SDL_Event quit;
      quit.type = SDL_QUIT;
      SDL_PushEvent(&quit);
    }
  }
  if (app_autosave_due(&autosave, *app, 1e300)) save_now();  // unsaved changes at exit: written now
  app_shutdown(app);
  delete app;
  renderer_shutdown(&renderer);
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplSDL2_Shutdown();
  ImGui::DestroyContext();
  SDL_GL_DeleteContext(gl);
  SDL_DestroyWindow(window);
  SDL_Quit();
  std::printf("attnplay: closed after %d frames\n", frame);
  return 0;
}

}  // namespace attnplay
