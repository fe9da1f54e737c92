// attnplay tests: the UI without a GPU (Dear ImGui with no backend). Edits through the app's state and through
// simulated mouse and keyboard input must produce the right config; the layout must fit common screens.
#include "ui/app.h"
#include "ui/app_state.h"
#include "ui/export.h"
#include "ui/i18n.h"
#include "ui/panels.h"
#include "ui/presets.h"
#include "ui/share.h"
#include "model/tokenizer.h"
#include "tiny_gpt2.h"
#include "model/sha256.h"
#include "model/workspace.h"

#include <gtest/gtest.h>
#include <imgui_internal.h>

#include <algorithm>
#include <cfloat>
#include <fstream>
#include <iterator>
#include <regex>

namespace attnplay {
namespace {

using json = nlohmann::json;

// ---------------------------------------------------------------------------------------------------------
// AppState alone
TEST(AppState, EditsRecomputeInTheSameCall) {
  AppState s;
  std::string error;
  ASSERT_TRUE(app_state_init(&s, json::object(), &error)) << error;
  EXPECT_EQ(s.trace.tokens.size(), 7u);
  ASSERT_TRUE(app_state_set_text(&s, "今天天气很好"));
  EXPECT_EQ(s.trace.tokens.size(), 6u);  // words tokenizer: one token per CJK character
  EXPECT_EQ(s.config["text"], "今天天气很好");
  ASSERT_TRUE(app_state_toggle_cell(&s, 2, 1, true));
  EXPECT_EQ(s.config["attention"]["mask"]["cells"], json::parse("[[2, 1]]"));
  EXPECT_EQ(s.trace.layers[0].heads[0].attn.weights(2, 1), 0.0f);
  EXPECT_NEAR(s.trace.layers[0].heads[0].attn.weights.row(2).sum(), 1.0f, 1e-5f);
  ASSERT_TRUE(app_state_toggle_cell(&s, 2, 1, false));
  EXPECT_TRUE(s.config["attention"]["mask"]["cells"].empty());
  ASSERT_TRUE(app_state_toggle_padding(&s, 0));
  EXPECT_EQ(s.config["attention"]["mask"]["padding"], json::parse("[0]"));
  for (int i = 0; i < 6; ++i) EXPECT_EQ(s.trace.layers[0].heads[1].attn.weights(i, 0), 0.0f);
}

TEST(AppState, InvalidUiEditIsKeptAndExplainedWhileViewsKeepTheLastValidTrace) {
  AppState s;
  app_state_init(&s, json::object(), nullptr);
  json next = s.config;
  next["heads"] = 3;
  EXPECT_FALSE(app_state_edit(&s, next));
  EXPECT_TRUE(s.stale);
  EXPECT_EQ(s.config["heads"], 3);                     // the control keeps what the user chose
  EXPECT_EQ(s.trace.layers[0].heads.size(), 2u);      // the views keep the last valid trace
  ASSERT_NE(app_state_error_for(s, "heads"), nullptr);
  EXPECT_STREQ(app_state_error_for(s, "heads"), "heads must divide d_model (got d_model=16, heads=3)");
  EXPECT_EQ(app_state_error_for(s, "d_model"), nullptr);
  next["d_model"] = 18;                                // fixing d_model makes it valid
  EXPECT_TRUE(app_state_edit(&s, next));
  EXPECT_FALSE(s.stale);
  EXPECT_EQ(s.trace.layers[0].heads.size(), 3u);
}

TEST(AppState, ApiSetIsAllOrNothingAndMergeIsDeep) {
  AppState s;
  app_state_init(&s, json::object(), nullptr);
  const json before = s.config;
  std::string error;
  EXPECT_FALSE(app_state_merge(&s, json::parse(R"({"attention": {"kind": "cosine"}})"), &error));
  EXPECT_NE(error.find("attention.kind"), std::string::npos) << error;
  EXPECT_EQ(s.config, before);
  ASSERT_TRUE(app_state_merge(&s, json::parse(R"({"attention": {"mask": {"causal": true}}})"), &error)) << error;
  EXPECT_EQ(s.config["attention"]["kind"], "scaled_dot");  // objects merge
  EXPECT_EQ(s.config["attention"]["mask"]["causal"], true);
  ASSERT_TRUE(app_state_merge(&s, json::parse(R"({"attention": {"mask": {"padding": [1, 2]}}})"), &error)) << error;
  ASSERT_TRUE(app_state_merge(&s, json::parse(R"({"attention": {"mask": {"padding": [3]}}})"), &error)) << error;
  EXPECT_EQ(s.config["attention"]["mask"]["padding"], json::parse("[3]"));  // arrays replace
  ASSERT_TRUE(app_state_merge(&s, json::parse(R"({"attention": {"mask": {"window": 1}}})"), &error)) << error;
  ASSERT_TRUE(app_state_merge(&s, json::parse(R"({"attention": {"mask": {"window": null}}})"), &error)) << error;
  EXPECT_TRUE(s.config["attention"]["mask"]["window"].is_null());  // null restores the default
  EXPECT_FALSE(app_state_merge(&s, json::array(), &error));
}

TEST(AppState, UndoRedoAndGestures) {
  AppState s;
  app_state_init(&s, json::object(), nullptr);
  app_state_set_text(&s, "a b c");
  app_state_begin_gesture(&s);
  for (double t : {0.5, 0.25, 0.125}) {
    json next = s.config;
    next["attention"]["temperature"] = t;
    app_state_edit(&s, next);
  }
  app_state_end_gesture(&s);
  EXPECT_EQ(s.config["attention"]["temperature"], 0.125);
  ASSERT_TRUE(app_state_undo(&s));  // the whole drag is one step
  EXPECT_EQ(s.config["attention"]["temperature"], 1.0);
  EXPECT_EQ(s.config["text"], "a b c");
  ASSERT_TRUE(app_state_undo(&s));
  EXPECT_EQ(s.config["text"], "The cat sat on the mat.");
  ASSERT_TRUE(app_state_redo(&s));
  ASSERT_TRUE(app_state_redo(&s));
  EXPECT_EQ(s.config["attention"]["temperature"], 0.125);
  EXPECT_FALSE(app_state_redo(&s));
  app_state_reset(&s);
  EXPECT_EQ(s.config, s.preset);
  EXPECT_TRUE(app_state_undo(&s));  // reset is undoable
  EXPECT_EQ(s.config["attention"]["temperature"], 0.125);
}

TEST(AppState, EditingTokensPrunesStrandedMaskEntries) {
  AppState s;
  app_state_init(&s, json::object(), nullptr);
  app_state_toggle_cell(&s, 6, 6, true);
  app_state_toggle_padding(&s, 5);
  ASSERT_TRUE(app_state_set_text(&s, "a b"));
  EXPECT_TRUE(s.config["attention"]["mask"]["cells"].empty());
  EXPECT_TRUE(s.config["attention"]["mask"]["padding"].empty());
  EXPECT_FALSE(s.stale);
  ASSERT_TRUE(app_state_set_tokens(&s, {"x", "y", "z"}));
  EXPECT_EQ(s.trace.tokens, (std::vector<std::string>{"x", "y", "z"}));
}

// ---------------------------------------------------------------------------------------------------------
// The app through Dear ImGui with no backend: frames, layout and simulated input.
class HeadlessApp : public ::testing::Test {
 protected:
  void SetUp() override {
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.DisplaySize = ImVec2(1280, 720);
    io.DeltaTime = 1.0f / 60.0f;
    for (int k = 0; k < ImGuiKey_COUNT; ++k) io.KeyMap[k] = k;  // key index == ImGuiKey_*
    app_init(&app, json::object(), nullptr);
    app_use_local_models(&app);  // real checkpoints computed in this thread, as the desktop does
    frames(2);
  }
  void TearDown() override {
    app_shutdown(&app);
    ImGui::DestroyContext();
  }
  void frames(int n) {
    for (int i = 0; i < n; ++i) {
      app_fonts_build_if_needed(&app);
      ImGui::NewFrame();
      app_frame(&app);
      ImGui::Render();
    }
  }
  ImVec2 centre(const std::string& name) {
    EXPECT_TRUE(app.layout.count(name)) << "no widget named " << name;
    const auto r = app.layout[name];
    return ImVec2(r[0] + r[2] * 0.5f, r[1] + r[3] * 0.5f);
  }
  void click(ImVec2 p, int button = 0) {
    ImGuiIO& io = ImGui::GetIO();
    io.MousePos = p;
    frames(1);
    io.MouseDown[button] = true;
    frames(1);
    io.MouseDown[button] = false;
    frames(1);
  }
  App app;
};

TEST_F(HeadlessApp, LayoutFitsWithoutOverlapAt1280x720And1920x1080) {
  for (ImVec2 size : {ImVec2(1280, 720), ImVec2(1920, 1080)}) {
    SCOPED_TRACE(std::to_string(int(size.x)) + "x" + std::to_string(int(size.y)));
    ImGui::GetIO().DisplaySize = size;
    frames(2);
    std::vector<ImRect> rects;
    for (const char* name : {"###Controls", "###Views", "###Details"}) {
      ImGuiWindow* w = ImGui::FindWindowByName(name);
      ASSERT_NE(w, nullptr) << name;
      const ImRect r = w->Rect();
      EXPECT_GE(r.Min.x, 0);
      EXPECT_GE(r.Min.y, 0);
      EXPECT_LE(r.Max.x, size.x + 0.5f) << name;
      EXPECT_LE(r.Max.y, size.y + 0.5f) << name;
      for (const ImRect& o : rects) {
        ImRect inter(ImMax(r.Min, o.Min), ImMin(r.Max, o.Max));
        EXPECT_TRUE(inter.GetWidth() <= 0.5f || inter.GetHeight() <= 0.5f) << name << " overlaps another window";
      }
      rects.push_back(r);
    }
    for (const char* widget : {"text_input", "causal", "heads", "weights", "scores"}) EXPECT_TRUE(app.layout.count(widget)) << widget;
  }
}

// Issue 11: the layout follows the canvas width. At a phone, a tablet, a 720-px article embed and a laptop, in
// English and Chinese, in every view: windows stay on screen without overlapping, no tab or heading is cut, and
// the main heatmap fills at least half of its slot across or down; phone controls are touch-sized (>= 40 px).
TEST_F(HeadlessApp, LayoutsFollowTheWidthInEveryViewAndLanguage) {
  struct Case {
    ImVec2 size;
    AppLayout expect;
    const char* name;
  };
  for (const Case& c : {Case{ImVec2(390, 844), APP_LAYOUT_NARROW, "phone"}, Case{ImVec2(768, 1024), APP_LAYOUT_MEDIUM, "tablet"},
                        Case{ImVec2(720, 440), APP_LAYOUT_MEDIUM, "embed"}, Case{ImVec2(650, 440), APP_LAYOUT_NARROW, "column"},
                        Case{ImVec2(1280, 720), APP_LAYOUT_WIDE, "laptop"}}) {
    for (int lang : {int(LANG_EN), int(LANG_ZH)}) {
      for (int v = 0; v < APP_VIEW_COUNT; ++v) {
        SCOPED_TRACE(std::string(c.name) + " lang " + std::to_string(lang) + " view " + std::to_string(v));
        ImGui::GetIO().DisplaySize = c.size;
        app.lang = Lang(lang);  // (App::lang is the typed enum now)
        app.state.sel.view = AppView(v);
        frames(3);
        EXPECT_EQ(app.layout_mode, c.expect);
        std::vector<std::pair<std::string, std::array<float, 4>>> wins;
        for (const auto& [name, r] : app.layout)
          if (name.rfind("win_", 0) == 0) wins.emplace_back(name, r);
        ASSERT_FALSE(wins.empty());
        for (size_t a = 0; a < wins.size(); ++a) {
          const auto& r = wins[a].second;
          EXPECT_GE(r[0], -0.5f);
          EXPECT_LE(r[0] + r[2], c.size.x + 0.5f) << wins[a].first;
          EXPECT_LE(r[1] + r[3], c.size.y + 0.5f) << wins[a].first;
          for (size_t b = 0; b < a; ++b) {
            const auto& o = wins[b].second;
            const float ix = std::min(r[0] + r[2], o[0] + o[2]) - std::max(r[0], o[0]);
            const float iy = std::min(r[1] + r[3], o[1] + o[3]) - std::max(r[1], o[1]);
            EXPECT_TRUE(ix <= 0.5f || iy <= 0.5f) << wins[a].first << " overlaps " << wins[b].first;
          }
        }
        std::string clipped;
        for (const auto& n : app.clipped) clipped += n + " ";
        EXPECT_TRUE(app.clipped.empty()) << "cut labels: " << clipped;
        if (v == APP_VIEW_ATTENTION) {
          ASSERT_TRUE(app.layout.count("weights_slot") && app.layout.count("weights"));
          const auto slot = app.layout["weights_slot"], grid = app.layout["weights"];
          EXPECT_TRUE(grid[2] >= 0.5f * slot[2] || grid[3] >= 0.5f * slot[3])
              << "heatmap " << grid[2] << "x" << grid[3] << " in a slot of " << slot[2] << "x" << slot[3];
        }
        if (c.expect == APP_LAYOUT_NARROW) {
          for (const char* name : {"text_input", "bar_causal", "view_pick", "zoom_in", "head_0"}) {
            if (!app.layout.count(name)) continue;  // not every view has each
            EXPECT_GE(app.layout[name][3], 39.5f) << name << " is a touch target";
          }
          if (v == APP_VIEW_ATTENTION && c.size.x < 400 && lang == LANG_EN) {
            EXPECT_TRUE(app.layout.count("view_pick")) << "a combo where the tabs do not fit whole";
          }
        }
      }
    }
  }
  app.lang = LANG_EN;
}

// A finger cannot hover: after a tap on a cell, that cell stands in for the hover (Details, highlights) until the
// next tap, even when the pointer is gone.
TEST_F(HeadlessApp, ATapOnACellActsAsHoverUntilTheNextTap) {
  app.touch = true;
  ImGui::GetIO().DisplaySize = ImVec2(390, 844);
  frames(2);
  ASSERT_TRUE(app.layout.count("weights_grid"));
  const auto g = app.layout["weights_grid"];  // {origin x, origin y, cell, rows*10000+cols}
  click(ImVec2(g[0] + g[2] * 2.5f, g[1] + g[2] * 1.5f));
  EXPECT_EQ(app.state.sel.query, 1);
  EXPECT_EQ(app.state.sel.key, 2);
  ImGui::GetIO().MousePos = ImVec2(-FLT_MAX, -FLT_MAX);
  frames(2);
  EXPECT_EQ(app.state.sel.hover_query, 1);
  EXPECT_EQ(app.state.sel.hover_key, 2);
}

// Keyboard: a click on a heatmap gives it the arrow keys; Esc gives them back.
TEST_F(HeadlessApp, ArrowKeysMoveTheExplainedCellAfterAClick) {
  frames(2);
  const auto g = app.layout["weights_grid"];
  click(ImVec2(g[0] + g[2] * 0.5f, g[1] + g[2] * 0.5f));
  ASSERT_EQ(app.state.sel.query, 0);
  ImGuiIO& io = ImGui::GetIO();
  auto press = [&](int key) {
    io.KeysDown[key] = true;
    frames(1);
    io.KeysDown[key] = false;
    frames(1);
  };
  press(ImGuiKey_RightArrow);
  press(ImGuiKey_DownArrow);
  press(ImGuiKey_DownArrow);
  EXPECT_EQ(app.state.sel.query, 2);
  EXPECT_EQ(app.state.sel.key, 1);
  press(ImGuiKey_Escape);
  press(ImGuiKey_DownArrow);
  EXPECT_EQ(app.state.sel.query, 2) << "after Esc the arrows navigate widgets";
  const std::string mirror = app_a11y_json(&app);
  const json m = json::parse(mirror);
  EXPECT_EQ(m["cell"], json::array({2, 1}));
  EXPECT_EQ(m["weights"].size(), app.state.trace.tokens.size());
  EXPECT_NEAR(m["weights"][2][1].get<double>(), app.state.trace.layers[0].heads[0].attn.weights(2, 1), 1e-4);
  EXPECT_FALSE(m["walkthrough"].empty());
}

// Zoom (pinch, Ctrl+wheel, +/-) shows part of the matrix, bigger; the cell under the fingers stays under them.
TEST_F(HeadlessApp, ZoomShowsAPartOfTheMatrixAndKeepsTheCellUnderThePoint) {
  std::string error;
  ASSERT_TRUE(app_state_merge(&app.state, json::parse(R"({"text": "a b c d e f g h i j k l m n o p q r s t u v w x"})"), &error)) << error;
  frames(2);
  const auto range = app.layout["weights_range"];
  EXPECT_EQ(range[2], 24.0f);
  const auto g = app.layout["weights_grid"];
  const ImVec2 at(g[0] + g[2] * 10.5f, g[1] + g[2] * 6.5f);  // cell (6, 10)
  app_zoom_at(&app, 3.0f, at.x, at.y);
  frames(2);
  const auto r2 = app.layout["weights_range"];
  EXPECT_LE(r2[2], 9.0f);
  EXPECT_LE(r2[3], 9.0f);
  const auto g2 = app.layout["weights_grid"];
  EXPECT_EQ(int((at.x - g2[0]) / g2[2]), 10);
  EXPECT_EQ(int((at.y - g2[1]) / g2[2]), 6);
  // A drag pans the zoomed matrix: dragging left by two cells shows columns further right.
  ImGuiIO& io = ImGui::GetIO();
  io.MousePos = at;
  frames(1);
  io.MouseDown[0] = true;
  frames(1);
  for (int k = 1; k <= 4; ++k) {
    io.MousePos = ImVec2(at.x - g2[2] * 0.5f * k, at.y);
    frames(1);
  }
  io.MouseDown[0] = false;
  frames(2);
  const auto r3 = app.layout["weights_range"];
  EXPECT_GE(r3[1], r2[1] + 1) << "first visible column " << r2[1] << " -> " << r3[1];
  click(centre("zoom_reset"));
  EXPECT_EQ(app.zoom.scale, 1.0f);
}

TEST_F(HeadlessApp, ClickingCausalMasksTheUpperTriangle) {
  click(centre("causal"));
  EXPECT_EQ(app.state.config["attention"]["mask"]["causal"], true);
  const Mat& w = app.state.trace.layers[0].heads[0].attn.weights;
  for (int i = 0; i < w.rows(); ++i)
    for (int j = i + 1; j < w.cols(); ++j) EXPECT_EQ(w(i, j), 0.0f);
}

TEST_F(HeadlessApp, TypingInTheTextBoxChangesTheTokens) {
  click(centre("text_input"));
  ImGuiIO& io = ImGui::GetIO();
  io.KeysDown[ImGuiKey_End] = true;
  frames(1);
  io.KeysDown[ImGuiKey_End] = false;
  for (char c : std::string(" The dog")) io.AddInputCharacter(c);
  frames(2);
  EXPECT_EQ(app.state.config["text"], "The cat sat on the mat. The dog");
  EXPECT_EQ(app.state.trace.tokens.back(), "dog");
  click(ImVec2(5, 700));  // focus elsewhere ends the typing gesture: one undo step for the typing
  EXPECT_TRUE(app_state_undo(&app.state));
  EXPECT_EQ(app.state.config["text"], "The cat sat on the mat.");
}

TEST_F(HeadlessApp, PaintingTheMaskGridMasksExactlyThatCell) {
  app.state.sel.view = APP_VIEW_MASK;
  frames(2);
  ASSERT_TRUE(app.layout.count("mask_grid"));
  const auto g = app.layout["mask_grid"];  // {origin x, origin y, cell, rows*10000+cols}
  const int i = 3, j = 1;
  click(ImVec2(g[0] + (j + 0.5f) * g[2], g[1] + (i + 0.5f) * g[2]));
  EXPECT_EQ(app.state.config["attention"]["mask"]["cells"], json::parse("[[3, 1]]"));
  const Mat& w = app.state.trace.layers[0].heads[0].attn.weights;
  EXPECT_EQ(w(3, 1), 0.0f);
  EXPECT_NEAR(w.row(3).sum(), 1.0f, 1e-5f);
  click(ImVec2(g[0] + (j + 0.5f) * g[2], g[1] + (i + 0.5f) * g[2]), 1);  // right click erases
  EXPECT_TRUE(app.state.config["attention"]["mask"]["cells"].empty());
}

TEST_F(HeadlessApp, HeadsComboOffersDivisorsAndCtrlZUndoes) {
  click(centre("heads"));
  ASSERT_TRUE(app.layout.count("heads_item_4"));
  EXPECT_FALSE(app.layout.count("heads_item_3"));  // 3 does not divide 16
  frames(2);  // a popup measures itself on the frame it opens and settles on the next
  click(centre("heads_item_4"));
  EXPECT_EQ(app.state.config["heads"], 4);
  EXPECT_EQ(app.state.trace.layers[0].heads.size(), 4u);
  ImGuiIO& io = ImGui::GetIO();
  io.KeyCtrl = true;
  io.KeysDown[ImGuiKey_Z] = true;
  frames(1);
  io.KeysDown[ImGuiKey_Z] = false;
  io.KeyCtrl = false;
  frames(1);
  EXPECT_EQ(app.state.config["heads"], 2);
}

// The kv heads combo offers the divisors of heads (grouped-query attention) and goes away when heads changes.
TEST_F(HeadlessApp, KvHeadsComboMakesGroupedQueryHeads) {
  std::string error;
  ASSERT_TRUE(app_state_merge(&app.state, json{{"heads", 4}, {"transformer", {{"positional", "rope"}}}}, &error)) << error;
  frames(2);
  click(centre("kv_heads"));
  frames(2);
  EXPECT_FALSE(app.layout.count("kv_heads_item_3"));  // 3 does not divide 4
  click(centre("kv_heads_item_2"));
  EXPECT_EQ(app.state.config["kv_heads"], 2);
  ASSERT_EQ(app.state.trace.layers[0].heads.size(), 4u);
  EXPECT_EQ(app.state.trace.layers[0].heads[0].k, app.state.trace.layers[0].heads[1].k);
  EXPECT_NE(app.state.trace.layers[0].heads[1].k, app.state.trace.layers[0].heads[2].k);
  // heads 1: kv 2 no longer divides it, so the field goes (one key/value head per query head again).
  click(centre("heads"));
  frames(2);
  click(centre("heads_item_1"));
  EXPECT_EQ(app.state.config["heads"], 1);
  EXPECT_FALSE(app.state.config.contains("kv_heads"));
  EXPECT_EQ(app.state.error, "");
}

// A stand-in for the web page's Web Worker (AppTrainRemote): it opens the session from the same two JSON texts the
// worker gets, steps when told, and answers through train_remote_update as main_web.cpp does. The panel's contract:
// Play, Pause, Step and Reset act at once; the weights shown are the worker's; an old session's updates are dropped;
// and the worker's steps are exactly the frame's steps (same batches, same weights, bit for bit).
struct FakeWorker : AppTrainRemote {
  App* app = nullptr;
  TrainSession session;
  uint64_t generation = 0;
  bool open_ok = false, running = false;
  int opens = 0, closes = 0, sets = 0, steps_per_tick = 3;
  bool with_state = true;  // the whole state with each update (the page's worker: on Pause, Step and every 2 s)
  std::string last_spec;
  bool open(uint64_t g, const std::string& config_json, const std::string& spec_json,
            const std::vector<uint8_t>& state) override {
    ++opens;
    Config c;
    TrainSessionSpec p;
    std::string error;
    open_ok = config_parse_text(config_json, &c, &error) && train_session_spec_parse(spec_json, &p, &error) &&
              train_session_begin(&session, c, p, &error) &&
              (state.empty() || train_session_restore(&session, state.data(), state.size(), &error));
    EXPECT_TRUE(open_ok) << error;
    generation = g;
    running = false;
    return open_ok;
  }
  void run(uint64_t g, bool r) override { if (g == generation) running = r; }
  void step(uint64_t g) override { if (g == generation) deliver(1); }
  void set(uint64_t g, const std::string& spec_json) override {
    ++sets;
    last_spec = spec_json;
    std::string error;
    EXPECT_TRUE(g == generation && train_session_spec_parse(spec_json, &session.spec, &error)) << error;
  }
  void close(uint64_t) override { ++closes; running = false; }
  void deliver(int steps, uint64_t as_generation = 0) {
    nlohmann::json p = {{"loss", nlohmann::json::array()}, {"accuracy", nlohmann::json::array()}, {"alignment", nlohmann::json::array()}};
    for (int i = 0; i < steps; ++i) {
      const TrainResult r = train_session_step(&session);
      p["loss"].push_back(r.loss);
      p["accuracy"].push_back(r.accuracy);
    }
    p["step"] = session.state.step;
    p["steps_per_s"] = 100.0;
    const std::vector<float> params = train_params_pack(session.state.weights);
    train_remote_update(app, as_generation ? as_generation : generation, params.data(), params.size(), p.dump(),
                        with_state ? train_session_snapshot(session) : std::vector<uint8_t>());
  }
  void tick() { if (running) deliver(steps_per_tick); }  // the worker's loop, one slice per frame here
};

TEST_F(HeadlessApp, TrainPanelStepsInTheWorkerWhenTheHostHasOne) {
  ImGui::GetIO().DisplaySize = ImVec2(1280, 1800);
  FakeWorker worker;
  worker.app = &app;
  app.training.remote = &worker;
  frames(2);
  click(centre("h_train"));
  frames(1);
  click(centre("train_play"));
  frames(1);
  ASSERT_TRUE(app.training.running) << (app.notices.empty() ? "" : app.notices.back());
  ASSERT_TRUE(app.training.remote_session);
  EXPECT_EQ(worker.opens, 1);
  EXPECT_TRUE(worker.running) << "Play reached the worker in the same frame";
  for (int f = 0; f < 10; ++f) {
    worker.tick();
    frames(1);
  }
  EXPECT_EQ(app.training.session.state.step, 30) << "the frame took no steps of its own: the worker's 10 x 3";
  EXPECT_EQ(app.training.loss.size(), 30u);
  // The views show the worker's weights.
  EXPECT_EQ(train_params_pack(app.training.session.state.weights), train_params_pack(worker.session.state.weights));
  EXPECT_EQ(train_params_pack(*app.state.weights), train_params_pack(worker.session.state.weights));
  // Pause acts at once; an edited learning rate follows the session.
  click(centre("train_play"));
  EXPECT_FALSE(app.training.running);
  EXPECT_FALSE(worker.running);
  app.training.spec.lr = 1e-3f;
  frames(1);
  EXPECT_EQ(worker.sets, 1);
  EXPECT_FLOAT_EQ(worker.session.spec.lr, 1e-3f) << worker.last_spec;
  // Step: exactly one step, shown.
  click(centre("train_step"));
  frames(1);
  EXPECT_EQ(app.training.session.state.step, 31);
  // Same steps in the frame (no worker): the same weights bit for bit.
  {
    TrainSession s;
    Config c;
    std::string error;
    TrainSessionSpec spec = app.training.session.spec;
    spec.lr = 3e-3f;
    ASSERT_TRUE(config_parse_text(app.state.config.dump(), &c, &error) && train_session_begin(&s, c, spec, &error)) << error;
    for (int i = 0; i < 30; ++i) train_session_step(&s);
    s.spec.lr = 1e-3f;
    train_session_step(&s);
    EXPECT_EQ(train_params_pack(s.state.weights), train_params_pack(worker.session.state.weights));
  }
  // Reset: closed, and an update still on its way from the old session is dropped.
  const uint64_t old = worker.generation;
  click(centre("train_reset"));
  frames(1);
  EXPECT_EQ(worker.closes, 1);
  EXPECT_FALSE(app.training.started);
  worker.deliver(1, old);
  EXPECT_EQ(app.training.session.state.step, 0);
  EXPECT_TRUE(app.training.loss.empty());
  // A worker that cannot start: the panel trains in the frame instead, from then on.
  click(centre("train_play"));
  frames(1);
  train_remote_update(&app, app.training.generation, nullptr, 0, R"({"unavailable": "no Worker here"})");
  EXPECT_FALSE(app.training.remote_session);
  EXPECT_EQ(app.training.remote, nullptr);
  for (int f = 0; f < 20 && app.training.session.state.step < 3; ++f) frames(1);
  EXPECT_GE(app.training.session.state.step, 3) << "steps in the frame after the worker was unavailable";
  app.training.remote = nullptr;
}

// On a phone the Train section sits below the token chips; Play replaces the text with the task's example, the chips
// change height, and the buttons used to jump ~230 px (off-screen, away from the finger that pressed Play). The
// frame after the click scrolls them back to where they were.
TEST_F(HeadlessApp, PlayKeepsTheTrainButtonsWhereTheyWere) {
  ImGuiIO& io = ImGui::GetIO();
  io.DisplaySize = ImVec2(390, 844);
  frames(2);
  click(centre("h_controls"));
  const auto scroll_to = [&](const char* name) {
    for (int k = 0; k < 60 && !(app.layout.count(name) && app.layout[name][1] > 60 && app.layout[name][1] < 700); ++k) {
      io.MousePos = ImVec2(300, 600);
      io.MouseWheel = -1.0f;
      frames(1);
      io.MouseWheel = 0.0f;
      frames(1);
    }
    ASSERT_TRUE(app.layout.count(name) && app.layout[name][1] > 60 && app.layout[name][1] < 700) << name;
  };
  scroll_to("h_train");
  click(centre("h_train"));
  scroll_to("train_play");
  const float y0 = app.layout["train_play"][1];
  click(centre("train_play"));
  ASSERT_TRUE(app.training.started) << (app.notices.empty() ? "" : app.notices.back());
  frames(3);
  const float y1 = app.layout["train_play"][1];
  std::printf("  Play at y %.0f before the click, %.0f after (the chips above changed: text \"%s\")\n", y0, y1,
              app.state.config.value("text", std::string()).c_str());
  EXPECT_NEAR(y1, y0, 2.0f);
  click(centre("train_play"));  // Pause, where the finger is
  EXPECT_FALSE(app.training.running);
}

// Issue 15: the workspace record restores a Train panel session mid-way (model, curves, step, optimiser state): the
// step after the restore is the step the session would have taken (same loss), and the views show its weights.
TEST_F(HeadlessApp, WorkspaceRestoresTrainingAndTheNextStepContinuesIt) {
  ImGui::GetIO().DisplaySize = ImVec2(1280, 1800);
  frames(2);
  click(centre("h_train"));
  app.training.spec.task = TRAIN_TASK_COPY;
  for (int i = 0; i < 3; ++i) {
    click(centre("train_step"));
    frames(2);  // the first step swaps in the task's example: the buttons settle where they were
  }
  ASSERT_TRUE(app.training.started) << (app.notices.empty() ? "" : app.notices.back());
  ASSERT_EQ(app.training.session.state.step, 3);
  const std::vector<uint8_t> record = workspace_encode(app_workspace_capture(app));
  const std::vector<float> loss3 = app.training.loss;
  click(centre("train_step"));
  const float uninterrupted = app.training.loss.back();
  const std::vector<float> weights4 = train_params_pack(app.training.session.state.weights);
  // Back to step 3 from the record (what a reload does), then the same button.
  Workspace ws;
  std::string error;
  ASSERT_TRUE(workspace_decode(record.data(), record.size(), &ws, &error)) << error;
  ASSERT_TRUE(app_workspace_apply(&app, ws, &error)) << error;
  EXPECT_EQ(app.training.session.state.step, 3);
  EXPECT_EQ(app.training.loss, loss3) << "the loss curve is back";
  EXPECT_FALSE(app.training.running) << "restored paused";
  ASSERT_TRUE(app.state.weights);
  EXPECT_EQ(train_params_pack(*app.state.weights), train_params_pack(app.training.session.state.weights));
  frames(2);
  click(centre("train_step"));
  ASSERT_EQ(app.training.session.state.step, 4);
  EXPECT_EQ(app.training.loss.back(), uninterrupted) << "Adam's moments and the batch stream came back too";
  EXPECT_EQ(train_params_pack(app.training.session.state.weights), weights4);
}

// A geometry drag moves an embedding (state weights); A/B with B edited; a view and a preset: all come back.
TEST_F(HeadlessApp, WorkspaceRestoresMovedEmbeddingsABSidesAndTheView) {
  ASSERT_TRUE(app_state_load_preset(&app.state, "scaling"));
  auto moved = std::make_shared<ModelWeights>(weights_seeded(app.state.parsed));
  moved->embedding(0, 0) += 1.5f;  // what a geometry drag writes
  std::string error;
  ASSERT_TRUE(app_state_set_weights(&app.state, moved, &error)) << error;
  app_state_ab_start(&app.state);
  app_state_ab_edit(&app.state, true);
  json b = app.state.config;
  b["seed"] = 7;
  ASSERT_TRUE(app_state_edit(&app.state, b));
  app.state.sel.view = APP_VIEW_HEADS;
  app.lang = LANG_ZH;
  const json a_config = app.state.ab.other.config;
  const std::vector<uint8_t> record = workspace_encode(app_workspace_capture(app));
  // Everything else: a fresh page.
  app_state_ab_stop(&app.state);
  app_state_init(&app.state, json::object(), &error);
  app.lang = LANG_EN;
  Workspace ws;
  ASSERT_TRUE(workspace_decode(record.data(), record.size(), &ws, &error)) << error;
  ASSERT_TRUE(app_workspace_apply(&app, ws, &error)) << error;
  EXPECT_TRUE(app.state.ab.on);
  EXPECT_TRUE(app.state.ab.editing_b);
  EXPECT_EQ(app.state.config["seed"], 7) << "B, the edited side";
  EXPECT_EQ(app.state.ab.other.config, a_config) << "A beside it";
  ASSERT_TRUE(app.state.ab.other.weights);
  EXPECT_EQ(app.state.ab.other.weights->embedding(0, 0), moved->embedding(0, 0)) << "the dragged embedding";
  EXPECT_EQ(app.state.sel.view, APP_VIEW_HEADS);
  EXPECT_EQ(app.lang, LANG_ZH);
  EXPECT_EQ(app.state.preset_id, "") << "A/B leaves the preset's strip, and a restore does not bring it back";
  frames(2);  // and it draws
  // These weights were made for 1 head: a heads edit is refused by name (it used to index heads the weights lack).
  json two = app.state.config;
  two["heads"] = 2;
  EXPECT_FALSE(app_state_edit(&app.state, two));
  EXPECT_NE(app.state.error.find("weights: a self-attention layer has 1 heads"), std::string::npos) << app.state.error;
}

TEST_F(HeadlessApp, WorkspaceThatDoesNotFitIsRefusedAndChangesNothing) {
  const json before = app.state.config;
  Workspace ws;
  ws.a.config = json{{"heads", 5}};  // d_model 64 / 5: refused (decode refuses this first; apply checks again)
  std::string error;
  EXPECT_FALSE(app_workspace_apply(&app, ws, &error));
  EXPECT_NE(error.find("saved state refused (config: "), std::string::npos) << error;
  EXPECT_NE(error.find("heads"), std::string::npos) << error;
  EXPECT_EQ(app.state.config, before);
}

// Autosave's timing (the same on every platform): a second after the last change; every 10 s while changes go on.
TEST_F(HeadlessApp, AutosaveIsDueASecondAfterTheLastChangeOrEveryTenSeconds) {
  AppAutosave a;
  app_autosave_start(&a, app);
  EXPECT_FALSE(app_autosave_due(&a, app, 0)) << "nothing changed";
  json c = app.state.config;
  c["seed"] = 5;
  ASSERT_TRUE(app_state_edit(&app.state, c));
  EXPECT_FALSE(app_autosave_due(&a, app, 100));
  EXPECT_FALSE(app_autosave_due(&a, app, 1050));
  EXPECT_TRUE(app_autosave_due(&a, app, 1100));
  const std::vector<uint8_t> record = app_autosave_record(&app, &a);
  EXPECT_GT(record.size(), kWorkspaceHeaderBytes);
  EXPECT_FALSE(app_autosave_due(&a, app, 5000)) << "saved";
  for (int t = 6000; t <= 17000; t += 100) {  // a change every 100 ms (training, a drag)
    c["seed"] = t;
    ASSERT_TRUE(app_state_edit(&app.state, c));
    if (app_autosave_due(&a, app, t)) {
      std::printf("  continuous changes from 6000 ms: saved at %d ms\n", t);
      EXPECT_EQ(t, 16000) << "10 s after the first unsaved change";
      return;
    }
  }
  ADD_FAILURE() << "continuous changes were never saved";
}

// The translation preset: the Train panel takes its task (date), Play trains the encoder-decoder with teacher forcing,
// and the cross-attention forms the alignment; then the Decode view's greedy decoding writes the date's target, each
// step's cross-attention peaking on the source word it came from. Step counts, never times.
// Greedy decoding and the next-token list show tokens of the trained target vocabulary that the text does not hold:
// their glyphs are in the atlas (else a decoded 五 draws as "?").
TEST_F(HeadlessApp, TranslationGlyphsCoverTheTargetVocabulary) {
  ASSERT_TRUE(app_state_load_preset(&app.state, "translate-zh"));
  ImGui::GetIO().DisplaySize = ImVec2(1280, 1800);
  frames(2);
  EXPECT_EQ(app.training.spec.translation, int(TRANSLATION_TASK_NUMBERS_ZH));
  click(centre("h_train"));
  frames(1);
  click(centre("train_step"));  // the task's model: its vocabularies
  frames(2);
  for (const std::string& t : translation_task_target_vocab(TRANSLATION_TASK_NUMBERS_ZH))
    for (uint32_t cp : utf8_decode(t, nullptr))
      if (cp >= 0x0250) EXPECT_TRUE(app.glyphs.count(cp)) << t;
}

TEST_F(HeadlessApp, TranslationPresetTrainsAndDecodes) {
#if defined(__wasm__)
  GTEST_SKIP() << "native only (the browser test trains it in the page)";
#endif
  ASSERT_TRUE(app_state_load_preset(&app.state, "translate"));
  ImGui::GetIO().DisplaySize = ImVec2(1280, 1800);
  frames(2);
  EXPECT_EQ(app.training.spec.translation, int(TRANSLATION_TASK_DATE));
  EXPECT_TRUE(app.state.sel.mean_heads);
  EXPECT_EQ(app.state.sel.band, TRACE_BAND_CROSS);
  const TranslationExample ex = translation_task_display(TRANSLATION_TASK_DATE);
  EXPECT_EQ(app.state.trace.tokens, ex.target);       // rows: the decoder's input
  EXPECT_EQ(app.state.trace.key_tokens, ex.source);   // columns: the source
  EXPECT_TRUE(app.layout.count("source_input") && app.layout.count("target_input"));
  click(centre("h_train"));
  frames(1);
  click(centre("train_play"));
  ASSERT_TRUE(app.training.running) << (app.notices.empty() ? "" : app.notices.back());
  for (int f = 0; f < 4000 && app.training.session.state.step < 400; ++f) frames(1);
  click(centre("train_play"));  // pause
  ASSERT_GE(app.training.session.state.step, 400);
  std::printf("  date in the Train panel: %lld steps, accuracy %.3f, alignment %.3f\n", (long long)app.training.session.state.step,
              double(app.training.accuracy.back()), double(app.training.alignment.back()));
  EXPECT_GE(app.training.accuracy.back(), 0.95f);
  EXPECT_GE(app.training.alignment.back(), 0.8f);
  EXPECT_TRUE(app.layout.count("train_alignment"));
  // Greedy decoding from "<s>" writes the example's target; each aligned step's mean cross row peaks on its source.
  app.state.sel.view = APP_VIEW_DECODE;
  frames(2);
  click(centre("decode_all"));
  ASSERT_EQ(app.ui.decode.size(), ex.target.size());
  EXPECT_EQ(app.ui.decode_shown, int(ex.target.size()));
  for (size_t k = 0; k < app.ui.decode.size(); ++k) {
    if (ex.align[k] < 0) continue;
    Eigen::Index arg = 0;
    app.ui.decode[k].cross.back().colwise().mean().maxCoeff(&arg);
    EXPECT_EQ(int(arg), ex.align[k]) << "step " << k << " emitted " << app.ui.decode[k].token;
  }
  // The target: the decoder's input after "<s>", then the day (two digits), which that input does not hold.
  std::vector<std::string> emitted, want(ex.target.begin() + 1, ex.target.end());
  want.push_back(ex.source[0].size() == 1 ? "0" + ex.source[0] : ex.source[0]);
  for (const DecodeStep& d : app.ui.decode) emitted.push_back(d.token);
  EXPECT_EQ(emitted, want);
  EXPECT_TRUE(app.layout.count("decode_grid"));
}

// The Train panel: Play trains in time slices inside frames; the views show the trained model as it learns; Reset
// goes back to seeded weights; the trained weights export and load back. A step count, never a time.
TEST_F(HeadlessApp, TrainPanelLearnsReverseAndTheViewsFollow) {
  std::string error;
  ASSERT_TRUE(app_state_merge(&app.state, json{{"d_model", 32}, {"heads", 4}, {"transformer", {{"d_ff", 64}}}}, &error)) << error;
  app.training.spec.length = 5;
  app.training.spec.vocab = 6;
  ImGui::GetIO().DisplaySize = ImVec2(1280, 1800);  // the Train section sits below the others in the controls column
  frames(2);
  click(centre("h_train"));
  frames(1);
  click(centre("train_play"));
  EXPECT_TRUE(app.training.running);
  EXPECT_EQ(app.state.parsed.mode, MODEL_MODE_TRANSFORMER);
  ASSERT_TRUE(app.state.weights != nullptr);
  EXPECT_EQ(app.state.weights->vocab.size(), 6u);
  EXPECT_EQ(app.state.trace.tokens.size(), 5u);  // the example sequence
  for (int f = 0; f < 2000 && app.training.session.state.step < 400; ++f) frames(1);
  ASSERT_GE(app.training.session.state.step, 400);
  click(centre("train_play"));  // pause
  EXPECT_FALSE(app.training.running);
  EXPECT_GT(app.training.accuracy.back(), 0.9f);
  // The views' model is the trained one: its logits reverse the example sequence.
  const Trace& t = app.state.trace;
  for (int i = 0; i < 5; ++i) {
    Eigen::Index arg = 0;
    t.logits.row(i).maxCoeff(&arg);
    EXPECT_EQ(t.vocab[size_t(arg)], t.tokens[size_t(4 - i)]) << "position " << i;
  }
  EXPECT_TRUE(app.layout.count("train_loss_plot"));
  // Export, reset to seeded weights (the prediction is gone), load the file back (it returns).
  std::string bytes;
  ASSERT_TRUE(export_weights(app, &bytes, &error)) << error;
  click(centre("train_reset"));
  EXPECT_TRUE(app.state.weights == nullptr);
  EXPECT_FALSE(app.training.started);
  ASSERT_TRUE(app_import(&app, bytes, "reverse.safetensors"));
  ASSERT_TRUE(app.state.weights != nullptr);
  Eigen::Index arg = 0;
  app.state.trace.logits.row(0).maxCoeff(&arg);
  EXPECT_EQ(app.state.trace.vocab[size_t(arg)], app.state.trace.tokens[4]);
  // A text with a token the trained vocabulary lacks is explained, not crashed on.
  EXPECT_FALSE(app_state_set_text(&app.state, "1 2 hello"));
  EXPECT_NE(app.state.error.find("hello"), std::string::npos) << app.state.error;
}

// Bring your own attention: an exported .npz (or JSON) becomes the trace; every view draws (those that need Q/K/V
// give way to the attention view); the next edit returns to the playground's own model.
TEST_F(HeadlessApp, ImportedAttentionMapsShowInTheViewsAndAnEditLeavesThem) {
  for (const char* name : {"demo.npz", "demo.json"}) {
    SCOPED_TRACE(name);
    std::ifstream f(std::string(ATTNPLAY_FIXTURES_DIR) + "/attention/" + name, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    ASSERT_FALSE(bytes.empty());
    ASSERT_TRUE(app_import(&app, bytes, name));
    const Trace& t = app.state.trace;
    ASSERT_TRUE(t.imported);
    EXPECT_EQ(t.layers.size(), 2u);
    EXPECT_EQ(t.layers[0].heads.size(), 4u);
    EXPECT_EQ(t.tokens.size(), 10u);
    EXPECT_EQ(t.tokens[1], "cat");
    for (int v = 0; v < APP_VIEW_COUNT; ++v) {
      app.state.sel.view = AppView(v);
      frames(2);
    }
    app.state.sel.layer = 1;
    app.state.sel.head = 3;
    app.state.sel.view = APP_VIEW_MODEL;
    frames(2);
    EXPECT_TRUE(app.layout.count("thumb_1_3"));
    EXPECT_TRUE(app.layout.count("imported_note"));
    EXPECT_FALSE(app.layout.count("tab_Mask"));
    const std::string result = app_state_result_json(app.state);
    EXPECT_NE(result.find("\"cat\""), std::string::npos);
    // Any edit recomputes the config's own model.
    ASSERT_TRUE(app_state_set_text(&app.state, "back to my own model"));
    EXPECT_FALSE(app.state.trace.imported);
    EXPECT_EQ(app.state.imported_name, "");
  }
  // A config JSON is still a config.
  ASSERT_TRUE(app_import(&app, R"({"text": "a config file", "heads": 1})", "c.json"));
  EXPECT_FALSE(app.state.trace.imported);
  EXPECT_EQ(app.state.config["heads"], 1);
}

// A link's head= and shown= over imported maps count the maps' heads, not the config's (a notebook figure focuses
// head 3 of a 4-head model while the playground's own config has 2 heads).
TEST_F(HeadlessApp, ViewLinkOverImportedMapsCountsTheirHeads) {
  std::string error;
  ASSERT_TRUE(app_state_set(&app.state, json{{"text", "two heads here"}, {"heads", 2}}, &error)) << error;
  std::ifstream f(std::string(ATTNPLAY_FIXTURES_DIR) + "/attention/demo.npz", std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  ASSERT_TRUE(app_import(&app, bytes, "demo.npz"));
  ASSERT_EQ(app.state.trace.layers[0].heads.size(), 4u);
  ASSERT_TRUE(share_apply(&app, "?layer=1&head=3&shown=1,3", &error)) << error;
  EXPECT_TRUE(app.state.trace.imported) << "a view-only link keeps the imported maps";
  EXPECT_EQ(app.state.sel.layer, 1);
  EXPECT_EQ(app.state.sel.head, 3);
  EXPECT_EQ(app.state.sel.heads_shown, (std::vector<bool>{false, true, false, true}));
  ASSERT_TRUE(share_apply(&app, "?head=9", &error)) << error;
  EXPECT_EQ(app.state.sel.head, 3) << "clamped to the maps' last head";
}

// A/B: B starts as a copy; the controls edit one side at a time; the Attention tab shows A, B and A - B with one
// hover; closing keeps the side being edited.
TEST_F(HeadlessApp, AbComparesTwoSettingsWithOneHover) {
  click(centre("ab_start"));
  ASSERT_TRUE(app.state.ab.on);
  EXPECT_FALSE(app.state.ab.editing_b);
  const Mat a0 = app_state_ab_trace(app.state, false).layers[0].heads[0].attn.weights;
  frames(1);  // the radio buttons appear on the frame after the click
  click(centre("ab_edit_b"));
  ASSERT_TRUE(app.state.ab.editing_b);
  std::string error;
  json b = app.state.config;
  b["attention"]["temperature"] = 0.25;
  ASSERT_TRUE(ui_edit(&app, b));
  const Mat& wa = app_state_ab_trace(app.state, false).layers[0].heads[0].attn.weights;
  const Mat& wb = app_state_ab_trace(app.state, true).layers[0].heads[0].attn.weights;
  EXPECT_EQ(wa, a0);            // A kept its numbers
  EXPECT_NE(wb, a0);            // B is sharper
  EXPECT_GT(wb.maxCoeff(), wa.maxCoeff());
  frames(2);
  for (const char* name : {"ab_0_0_0", "ab_1_0_0", "ab_2_0_0"}) EXPECT_TRUE(app.layout.count(std::string(name) + "_grid")) << name;
  // Hovering a cell of B highlights it in A and the difference too, and prints all three values.
  const auto g = app.layout["ab_1_0_0_grid"];
  ImGui::GetIO().MousePos = ImVec2(g[0] + g[2] * 2.5f, g[1] + g[2] * 1.5f);  // row 1, column 2
  frames(3);
  EXPECT_EQ(app.state.sel.hover_query, 1);
  EXPECT_EQ(app.state.sel.hover_key, 2);
  EXPECT_TRUE(app.layout.count("ab_values"));
  // Back to editing A: its controls show A's temperature; closing keeps A.
  frames(1);
  click(centre("ab_edit_a"));
  frames(1);
  EXPECT_EQ(app.state.config["attention"]["temperature"], 1.0);
  click(centre("ab_close"));
  EXPECT_FALSE(app.state.ab.on);
  EXPECT_EQ(app.state.trace.layers[0].heads[0].attn.weights, a0);
}

// Geometry: q and k points of the focused head; dragging a query point right moves that token's embedding so its
// point moves right (the PCA axes are recomputed, so the check is on q itself along the old first axis); Reset
// embeddings returns to the seeded model.
TEST_F(HeadlessApp, GeometryViewDragMovesTheTokensEmbedding) {
  std::string error;
  ASSERT_TRUE(app_state_merge(&app.state, json{{"text", "a b c d e f"}, {"heads", 1}}, &error)) << error;
  app.state.sel.view = APP_VIEW_GEOMETRY;
  frames(3);
  ASSERT_TRUE(app.layout.count("geo_q_2"));
  ASSERT_TRUE(app.layout.count("geo_k_4"));
  const Mat q0 = app.state.trace.layers[0].heads[0].q, w0 = app.state.trace.layers[0].heads[0].attn.weights;
  const auto p = app.layout["geo_q_2"];
  const float scale = app.layout["geometry_scale"][2];
  ImGuiIO& io = ImGui::GetIO();
  io.MousePos = ImVec2(p[0], p[1]);
  frames(1);
  io.MouseDown[0] = true;
  frames(1);
  for (int k = 1; k <= 5; ++k) {
    io.MousePos = ImVec2(p[0] + 8.0f * k, p[1]);
    frames(1);
  }
  io.MouseDown[0] = false;
  frames(2);
  ASSERT_TRUE(app.state.weights != nullptr);
  const Mat& q1 = app.state.trace.layers[0].heads[0].q;
  // Row 2 moved by about 40 px / scale along the old first axis; the other rows did not move.
  const Eigen::RowVectorXf moved = q1.row(2) - q0.row(2);
  EXPECT_GT(moved.norm(), 0.5f * 40.0f / scale);
  for (int i : {0, 1, 3, 4, 5}) EXPECT_LT((q1.row(i) - q0.row(i)).norm(), 1e-5f) << "row " << i;
  EXPECT_NE(app.state.trace.layers[0].heads[0].attn.weights, w0);
  click(centre("geo_reset"));
  EXPECT_TRUE(app.state.weights == nullptr);
  EXPECT_EQ(app.state.trace.layers[0].heads[0].q, q0);
}

TEST_F(HeadlessApp, ChipsEditAndReorderTokens) {
  click(centre("chip_1"));  // "cat": opens the editor
  frames(2);
  ASSERT_TRUE(app.layout.count("chip_editor"));
  ImGuiIO& io = ImGui::GetIO();
  io.KeysDown[ImGuiKey_Backspace] = true;  // the editor starts with "cat" selected/at its end: erase 3 chars
  for (int k = 0; k < 3; ++k) {
    frames(1);
    io.KeysDown[ImGuiKey_Backspace] = false;
    frames(1);
    io.KeysDown[ImGuiKey_Backspace] = k < 2;
  }
  io.KeysDown[ImGuiKey_Backspace] = false;
  for (char c : std::string("dog")) io.AddInputCharacter(c);
  frames(1);
  io.KeysDown[ImGuiKey_Enter] = true;
  frames(1);
  io.KeysDown[ImGuiKey_Enter] = false;
  frames(2);
  EXPECT_EQ(app.state.trace.tokens, (std::vector<std::string>{"The", "dog", "sat", "on", "the", "mat", "."}));
  // Drag chip 0 ("The") onto chip 2 ("sat").
  const ImVec2 from = centre("chip_0"), to = centre("chip_2");
  io.MousePos = from;
  frames(1);
  io.MouseDown[0] = true;
  frames(1);
  for (int step = 1; step <= 8; ++step) {
    io.MousePos = ImVec2(from.x + (to.x - from.x) * step / 8, from.y + (to.y - from.y) * step / 8);
    frames(1);
  }
  io.MouseDown[0] = false;
  frames(2);
  EXPECT_EQ(app.state.trace.tokens, (std::vector<std::string>{"dog", "sat", "The", "on", "the", "mat", "."}));
}

TEST_F(HeadlessApp, HoveringAChipHighlightsItsRowAndColumn) {
  ImGui::GetIO().MousePos = centre("chip_2");
  frames(2);
  EXPECT_EQ(app.state.sel.hover_query, 2);
  EXPECT_EQ(app.state.sel.hover_key, 2);
}

TEST_F(HeadlessApp, DesktopExportsAskForAPathAndWriteTheFile) {
  // No host save hook (the desktop): File -> Export opens a Save-as dialog with a path.
  const std::string dir = ::testing::TempDir();
  app_deliver_file(&app, "attnplay-config.json", "application/json", "{\"text\": \"saved\"}");
  frames(2);
  ASSERT_TRUE(app.layout.count("save_button"));
  app.save_path = dir + "/attnplay-export-test.json";
  click(centre("save_button"));
  std::ifstream f(dir + "/attnplay-export-test.json");
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "{\"text\": \"saved\"}");
  // ... and importing it back is one call (the desktop's drop handler and Import dialog use it).
  EXPECT_TRUE(app_import(&app, text, "attnplay-export-test.json"));
  EXPECT_EQ(app.state.trace.tokens, (std::vector<std::string>{"saved"}));
  EXPECT_FALSE(app_import(&app, "{\"heads\": 5}", "bad.json"));
  EXPECT_EQ(app.state.trace.tokens, (std::vector<std::string>{"saved"}));
}

TEST_F(HeadlessApp, EveryViewDrawsForEveryMode) {
  for (const char* cfg : {R"({"mode": "transformer", "text": "今天天气很好", "tokenizer": "chars"})",
                          R"({"key_text": "le chat", "attention": {"kind": "additive"}})",
                          R"({"mode": "transformer", "heads": 4, "kv_heads": 2, "transformer": {"positional": "rope"}})",
                          R"({"heads": 4, "kv_heads": 1, "transformer": {"positional": "alibi"}, "attention": {"mask": {"causal": true}}})",
                          R"({"inputs": {"q": [[1, 0], [0, 1]], "k": [[1, 0], [0, 1], [1, 1]], "v": [[1], [2], [3]]}})"}) {
    std::string error;
    ASSERT_TRUE(app_state_merge(&app.state, json::parse(cfg), &error)) << error;
    for (int v = 0; v < APP_VIEW_COUNT; ++v) {
      app.state.sel.view = AppView(v);
      frames(2);
    }
    // Chinese characters in use are queued for the font atlas.
    if (std::string(cfg).find("今") != std::string::npos) {
      EXPECT_TRUE(app.glyphs.count(0x4ECA));
    }
    app_state_reset(&app.state);
  }
}

// A real checkpoint in the app (mode pretrained; computed in this thread as the desktop does, through the same packed
// bytes the page's worker sends): the views draw it, the predictions are the logits' softmax, a shift-click on the
// model view ablates that head (its context is 0 and the before -> after predictions show), a refused folder leaves
// the model on screen and names the file.
TEST_F(HeadlessApp, RealModelOpensAblatesByShiftClickAndARefusalKeepsIt) {
  const std::string dir = tiny_gpt2_folder("attnplay_ui_tiny_gpt2");
  std::string error;
  ASSERT_TRUE(app_state_merge(&app.state, json{{"mode", "pretrained"}, {"model", dir}, {"token_ids", {3, 1, 4, 1, 5}}}, &error)) << error;
  EXPECT_TRUE(app.state.pretrained.busy());
  frames(2);
  ASSERT_TRUE(app.state.pretrained.on_screen) << app.state.pretrained.refusal;
  EXPECT_FALSE(app.state.pretrained.busy());
  EXPECT_EQ(app_pretrained_outcome(app.state, app.state.pretrained.wanted, &error), 1);
  EXPECT_EQ(app.state.trace.layers.size(), 2u);
  EXPECT_EQ(app.state.trace.tokens, (std::vector<std::string>{"3", "1", "4", "1", "5"}));
  const json result = json::parse(app_state_result_json(app.state));
  EXPECT_EQ(result["token_ids"], json({3, 1, 4, 1, 5}));
  ASSERT_EQ(result["logits"].size(), 5u);
  // The predictions at the selected row: the softmax of its logits, most probable first.
  app.state.sel.query = 4;
  const auto& row = result["logits"][4];
  std::vector<std::pair<double, int>> p;
  double z = 0, mx = -1e30;
  for (const auto& v : row) mx = std::max(mx, v.get<double>());
  for (size_t j = 0; j < row.size(); ++j) z += std::exp(row[j].get<double>() - mx);
  for (size_t j = 0; j < row.size(); ++j) p.push_back({std::exp(row[j].get<double>() - mx) / z, int(j)});
  std::sort(p.begin(), p.end(), [](auto& a, auto& b) { return a.first > b.first; });
  const auto pred = app.state.pretrained.view.predictions[4];  // (a copy: the next answer replaces the view)
  ASSERT_EQ(pred.size(), 10u);
  for (size_t k = 0; k < pred.size(); ++k) {
    EXPECT_EQ(pred[k].id, p[k].second) << k;
    EXPECT_NEAR(pred[k].prob, p[k].first, 1e-6) << k;
  }
  for (int v = 0; v < APP_VIEW_COUNT; ++v) {  // every offered view draws (Geometry is not offered)
    app.state.sel.view = AppView(v);
    frames(2);
  }
  EXPECT_FALSE(app_view_offered(app.state, APP_VIEW_GEOMETRY));
  frames(1);
  EXPECT_TRUE(app.layout.count("prediction_0"));
  EXPECT_TRUE(app.layout.count("model_card"));

  // Shift-click on layer 1, head 0 in the model view.
  app.state.sel.view = APP_VIEW_MODEL;
  frames(2);
  ImGuiIO& io = ImGui::GetIO();
  io.KeyShift = true;
  click(centre("thumb_1_0"));
  io.KeyShift = false;
  frames(2);
  EXPECT_EQ(app.state.config["ablate"], json({{1, 0}}));
  EXPECT_EQ(app.state.sel.view, APP_VIEW_MODEL) << "a shift-click ablates; it does not open the head";
  ASSERT_TRUE(app.state.pretrained.on_screen);
  EXPECT_TRUE(app.state.trace.layers[1].heads[0].attn.context.isZero());
  EXPECT_FALSE(app.state.trace.layers[1].heads[1].attn.context.isZero());
  ASSERT_EQ(app.state.pretrained.view.baseline.size(), 5u);
  EXPECT_NEAR(app.state.pretrained.view.baseline[4][0].prob, pred[0].prob, 1e-6) << "the baseline is the unablated compute";

  // A folder that lacks a tensor: refused by the tensor's name; what was on screen stays.
  TinyGpt2 g;
  g.source();
  SafeTensorsFile f;
  std::string err2;
  ASSERT_TRUE(safetensors_read(g.file.data(), g.file.size(), &f, &err2)) << err2;
  f.tensors.erase("h.1.ln_2.bias");
  const std::string bad = tiny_gpt2_folder("attnplay_ui_tiny_gpt2_bad");
  const std::vector<uint8_t> bytes = safetensors_write(f);
  std::ofstream(bad + "/model.safetensors", std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  const json before = app.state.config;
  ASSERT_TRUE(app_state_merge(&app.state, json{{"model", bad}}, &error)) << error;
  frames(2);
  EXPECT_EQ(app_pretrained_outcome(app.state, app.state.pretrained.wanted, &error), 2);
  EXPECT_NE(error.find("h.1.ln_2.bias"), std::string::npos) << error;
  EXPECT_NE(app.state.pretrained.refusal.find("h.1.ln_2.bias"), std::string::npos);
  EXPECT_EQ(app.state.config, before) << "the refused edit is undone";
  EXPECT_TRUE(app.state.pretrained.on_screen);
  EXPECT_TRUE(app.layout.count("model_refusal"));
  // Back to the playground's own model: everything as before.
  ASSERT_TRUE(app_state_set(&app.state, app_default_config(), &error)) << error;
  EXPECT_FALSE(app.state.pretrained.on_screen);
  frames(2);
}

// The ablation sweep in the app: the predictions' button runs it (here in the frame's thread, a slice a frame) and
// opens the model view ranked by it; every head's change is one ablation alone computed afresh; a prediction clicked
// is the token followed; toggling heads keeps the sweep, an edit of the tokens stops it and marks it stale.
TEST_F(HeadlessApp, RealModelSweepRanksHeadsAsOneAblationAtATime) {
  TinyGpt2 g;
  g.layers = 3;
  const std::string dir = tiny_gpt2_folder("attnplay_ui_tiny_gpt2_sweep", g);
  std::string error;
  const std::vector<int> ids = {3, 1, 4, 1, 5};
  ASSERT_TRUE(app_state_merge(&app.state, json{{"mode", "pretrained"}, {"model", dir}, {"token_ids", ids}, {"ablate", {{2, 1}}}}, &error)) << error;
  frames(2);
  ASSERT_TRUE(app.state.pretrained.on_screen) << app.state.pretrained.refusal;
  app.state.sel.query = 3;
  frames(2);
  // Follow the second most probable token: click it, then the sweep's button.
  const int second = app.state.pretrained.view.predictions[3][1].id;
  click(centre("prediction_1"));
  EXPECT_EQ(app.state.pretrained.sweep_token, second);
  click(centre("sweep_button"));
  for (int i = 0; i < 100 && app.state.pretrained.sweep.running; ++i) frames(1);
  const AppSweep& w = app.state.pretrained.sweep;
  ASSERT_FALSE(w.running);
  ASSERT_TRUE(w.error.empty()) << w.error;
  EXPECT_EQ(app.state.sel.view, APP_VIEW_MODEL);
  EXPECT_EQ(app.ui.model_sort, HEAD_SORT_SWEEP);
  EXPECT_EQ(w.state["position"], 3);
  EXPECT_EQ(w.state["token_id"], second);
  // Each head ablated alone (the config's own ablation left out), computed afresh.
  std::shared_ptr<PretrainedModel> m;
  ASSERT_TRUE(pretrained_load_dir(dir, PretrainedLimits(), &m, &error)) << error;
  const auto prob = [&](std::vector<std::pair<int, int>> ablate) {
    PretrainedRequest r;
    r.ids = ids;
    r.tokens.assign(ids.size(), "t");
    r.mask.causal = true;
    r.ablate = ablate;
    Trace t;
    std::string e;
    EXPECT_TRUE(pretrained_compute(*m, r, nullptr, &t, &e)) << e;
    const Eigen::VectorXd row = t.logits.row(3).cast<double>().transpose();
    return (row.array() - row.maxCoeff()).exp()(second) / (row.array() - row.maxCoeff()).exp().sum();
  };
  const double base = prob({});
  EXPECT_NEAR(w.state["baseline"].get<double>(), base, 1e-5);
  ASSERT_EQ(w.change.rows(), 3);
  std::pair<int, int> top{0, 0};
  for (int l = 0; l < 3; ++l)
    for (int h = 0; h < 2; ++h) {
      EXPECT_NEAR(w.change(l, h), prob({{l, h}}) - base, 1e-5) << l << "/" << h;
      if (std::fabs(w.change(l, h)) > std::fabs(w.change(top.first, top.second))) top = {l, h};
    }
  // The model view ranks by it: the largest |change| comes first (top left).
  frames(2);
  const std::string first = "thumb_" + std::to_string(top.first) + "_" + std::to_string(top.second);
  ASSERT_TRUE(app.layout.count(first));
  for (int l = 0; l < 3; ++l)
    for (int h = 0; h < 2; ++h) {
      const auto r = app.layout["thumb_" + std::to_string(l) + "_" + std::to_string(h)];
      EXPECT_TRUE(r[1] > app.layout[first][1] || (r[1] == app.layout[first][1] && r[0] >= app.layout[first][0])) << l << "/" << h;
    }
  EXPECT_TRUE(app.layout.count("sweep_run"));
  // Toggling a head keeps it; an edit of the tokens marks it stale, and stops one under way.
  pretrained_toggle_ablate(&app, 0, 0);
  frames(2);
  EXPECT_TRUE(app_pretrained_sweep_current(app.state));
  click(centre("sweep_run"));
  EXPECT_TRUE(app.state.pretrained.sweep.running);
  ASSERT_TRUE(app_state_merge(&app.state, json{{"token_ids", {3, 1, 4}}}, &error)) << error;
  frames(3);
  EXPECT_FALSE(app.state.pretrained.sweep.running);
  EXPECT_TRUE(app.state.pretrained.sweep.stopped);
  EXPECT_FALSE(app_pretrained_sweep_current(app.state));
  ASSERT_TRUE(app_state_set(&app.state, app_default_config(), &error)) << error;
  frames(2);
}

// The workspace records which files a local model was (names, sizes, SHA-256, hashed a slice a frame after it
// loads); restored, files opened again that differ are named (the page's reopen notice lists them: models.test.mjs).
TEST_F(HeadlessApp, RealModelWorkspaceRecordsItsFilesAndNamesOnesThatDiffer) {
  // (a folder of this run's own: this test rewrites it, and the WASM suites run side by side under ctest -j2)
  const std::string dir = tiny_gpt2_folder("attnplay_ui_tiny_gpt2_files_" + std::to_string(std::random_device{}()));
  std::string error;
  ASSERT_TRUE(app_state_merge(&app.state, json{{"mode", "pretrained"}, {"model", dir}, {"token_ids", {3, 1, 4}}}, &error)) << error;
  frames(4);
  ASSERT_TRUE(app.state.pretrained.on_screen) << app.state.pretrained.refusal;
  const json files = app.state.pretrained.local[dir].files;
  ASSERT_EQ(files.size(), 2u) << files.dump();
  for (const json& f : files) {
    const std::string path = dir + "/" + f["name"].get<std::string>();
    EXPECT_EQ(f["sha256"], sha256_file_hex(path)) << f.dump();
    EXPECT_EQ(f["size"].get<double>(), double(std::filesystem::file_size(path)));
  }
  Workspace ws;
  const std::vector<uint8_t> record = workspace_encode(app_workspace_capture(app));
  ASSERT_TRUE(workspace_decode(record.data(), record.size(), &ws, &error)) << error;
  EXPECT_EQ(ws.model, json({{"source", dir}, {"files", files}}));
  // A later visit: the folder's weights have changed since.
  ASSERT_TRUE(app_state_set(&app.state, app_default_config(), &error)) << error;
  frames(2);
  app.state.pretrained.local.clear();
  app_use_local_models(&app);  // (a new process: nothing loaded yet)
  TinyGpt2 other;
  other.source(99);
  std::ofstream(dir + "/model.safetensors", std::ios::binary).write(reinterpret_cast<const char*>(other.file.data()), std::streamsize(other.file.size()));
  ASSERT_TRUE(app_workspace_apply(&app, ws, &error)) << error;
  EXPECT_EQ(app.state.pretrained.restored_model, ws.model);
  frames(4);
  EXPECT_NE(app.state.pretrained.files_differ.find("model.safetensors (another SHA-256)"), std::string::npos)
      << app.state.pretrained.files_differ;
  frames(1);
  EXPECT_TRUE(app.layout.count("model_files_differ"));
  ASSERT_TRUE(app_state_set(&app.state, app_default_config(), &error)) << error;
  frames(2);
  std::filesystem::remove_all(dir);
}

// result() a part at a time (the page's lazy result): every part is the whole JSON's, in its key order, for the
// playground's model (with logits and vocab), a lean trace and a real checkpoint (token_ids first); typed matrices are
// the trace's floats.
TEST_F(HeadlessApp, ResultPartsAreTheWholeResultsParts) {
  std::string error;
  const std::string dir = tiny_gpt2_folder("attnplay_ui_tiny_gpt2_parts");
  for (const json& cfg : {json{{"mode", "transformer"}, {"heads", 4}}, json{{"mode", "pretrained"}, {"model", dir}, {"token_ids", {3, 1, 4}}}}) {
    ASSERT_TRUE(app_state_set(&app.state, app_default_config(), &error)) << error;
    ASSERT_TRUE(app_state_merge(&app.state, cfg, &error)) << error;
    frames(2);
    const json whole = json::parse(app_state_result_json(app.state));
    std::string text;
    ASSERT_TRUE(app_state_result_part(app.state, "meta", 0, 0, &text)) << text;
    const json meta = json::parse(text);
    EXPECT_TRUE(meta["lazy"].get<bool>());
    std::vector<std::string> keys;
    for (const auto& [k, v] : whole.items()) keys.push_back(k);
    std::vector<std::string> meta_keys = meta["keys"].get<std::vector<std::string>>(), sorted = meta_keys;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, keys) << "the same keys (nlohmann sorts an object's)";
    for (const std::string& k : meta_keys)
      if (k != "layers" && k != "logits") EXPECT_EQ(meta[k], whole[k]) << k;
    EXPECT_EQ(meta["layers"], int(whole["layers"].size()));
    for (size_t l = 0; l < whole["layers"].size(); ++l) {
      ASSERT_TRUE(app_state_result_part(app.state, "output", int(l), 0, &text)) << text;
      EXPECT_EQ(json::parse(text), whole["layers"][l]["output"]);
      for (size_t h = 0; h < whole["layers"][l]["heads"].size(); ++h) {
        ASSERT_TRUE(app_state_result_part(app.state, "head", int(l), int(h), &text)) << text;
        EXPECT_EQ(json::parse(text), whole["layers"][l]["heads"][h]) << l << "/" << h;
      }
    }
    ASSERT_TRUE(app_state_result_part(app.state, "logits", 0, 0, &text)) << text;
    EXPECT_EQ(json::parse(text), whole["logits"]);
    Mat m;
    ASSERT_TRUE(app_state_result_matrix(app.state, "weights", 1, 1, &m, &error)) << error;
    EXPECT_EQ(m.rows(), int(whole["tokens"].size()));
    EXPECT_FLOAT_EQ(m(1, 0), whole["layers"][1]["heads"][1]["weights"][1][0].get<float>());
    EXPECT_FALSE(app_state_result_part(app.state, "head", 0, 99, &text));
    EXPECT_NE(text.find("head 99 is out of range"), std::string::npos) << text;
    EXPECT_FALSE(app_state_result_matrix(app.state, "nope", 0, 0, &m, &error));
    EXPECT_NE(error.find("scores, weights, context, output, logits"), std::string::npos) << error;
  }
}

// 2048 tokens x 2 layers x 4 heads is 256 MB of matrices, over kAppMatrixBytes: the trace is lean. Every view
// still draws; the focused head follows the selection with the same numbers as a full computation; the model view
// draws the thumbnails; the head view reads single weights; the result JSON is still complete for one head's row.
TEST_F(HeadlessApp, ThousandsOfTokensKeepOnlyTheFocusedHeadWhole) {
  std::string text;
  for (int i = 0; i < 2048; ++i) text += "w" + std::to_string(i % 97) + " ";
  const json cfg = {{"mode", "transformer"}, {"d_model", 64}, {"heads", 4}, {"text", text},
                    {"attention", {{"mask", {{"causal", true}}}}}};
  std::string error;
  ASSERT_TRUE(app_state_merge(&app.state, cfg, &error)) << error;
  ASSERT_TRUE(app.state.trace.lean);
  Config c;
  ASSERT_TRUE(config_parse(app.state.config, &c, &error)) << error;
  Trace full;
  ASSERT_TRUE(model_compute(c, nullptr, &full, &error)) << error;
  for (auto [layer, head] : {std::pair{0, 0}, {1, 3}, {0, 2}}) {
    SCOPED_TRACE("layer " + std::to_string(layer) + " head " + std::to_string(head));
    app.state.sel.layer = layer;
    app.state.sel.head = head;
    for (int v = 0; v < APP_VIEW_COUNT; ++v) {
      app.state.sel.view = AppView(v);
      frames(2);
    }
    int kept = 0;
    for (int l = 0; l < 2; ++l)
      for (int h = 0; h < 4; ++h) kept += trace_head_has_matrices(app.state.trace, l, h) ? 1 : 0;
    EXPECT_EQ(kept, 1);  // only the focused head's n² matrices are in memory
    const HeadTrace& f = app_state_focused_head(app.state);
    EXPECT_EQ(f.attn.weights, full.layers[size_t(layer)].heads[size_t(head)].attn.weights);
    EXPECT_EQ(f.attn.thumb.rows(), 128);
    EXPECT_NEAR(trace_weight(app.state.trace, 1 - layer, 1, 1000, 999),
                full.layers[size_t(1 - layer)].heads[1].attn.weights(1000, 999), 1e-6);
  }
  // The head view's hover tooltip reads a whole row of every head from row_lse.
  app.state.sel.view = APP_VIEW_HEADS;
  frames(3);
  ImGui::GetIO().MousePos = centre("head_view");
  frames(2);
}

// ---------------------------------------------------------------------------------------------------------
// Languages, presets, share links, exports
TEST(I18n, BothTablesCoverEveryIdWithTheSameConversions) {
  const std::regex conv("%[-+ #0]*[0-9]*(\\.[0-9]+)?[a-zA-Z%]");
  for (int id = 0; id < S_COUNT; ++id) {
    const char* en = tr_lang(LANG_EN, StrId(id));
    const char* zh = tr_lang(LANG_ZH, StrId(id));
    ASSERT_NE(en, nullptr) << "English lacks string id " << id;
    ASSERT_NE(zh, nullptr) << "Chinese lacks string id " << id << " (English: " << en << ")";
    auto specs = [&](const char* t) {
      std::vector<std::string> out;
      std::string s = t;
      for (std::sregex_iterator it(s.begin(), s.end(), conv), end; it != end; ++it) out.push_back(it->str());
      return out;
    };
    EXPECT_EQ(specs(en), specs(zh)) << "printf conversions differ for \"" << en << "\" / \"" << zh << "\"";
  }
  i18n_set_lang(LANG_ZH);
  EXPECT_STREQ(tr(S_TOKENS), "词元");
  EXPECT_EQ(tr_id(S_TOKENS, "h_tokens"), "词元###h_tokens");
  i18n_set_lang(LANG_EN);
  EXPECT_STREQ(tr(S_TOKENS), "Tokens");
  Lang l;
  EXPECT_TRUE(i18n_parse_lang("zh-CN", &l));
  EXPECT_EQ(l, LANG_ZH);
  EXPECT_FALSE(i18n_parse_lang("klingon", &l));
}

TEST(Presets, EveryPresetLoadsAndItsComparisonsCompute) {
  for (const Preset& p : presets()) {
    SCOPED_TRACE(p.id);
    AppState s;
    app_state_init(&s, json::object(), nullptr);
    ASSERT_TRUE(app_state_load_preset(&s, p.id));
    EXPECT_FALSE(s.stale) << s.error;
    EXPECT_EQ(s.compare.size(), p.compare.size());
    for (const CompareVariant& v : s.compare) EXPECT_FALSE(v.trace.layers.empty()) << v.error;
  }
  AppState s;
  app_state_init(&s, json::object(), nullptr);
  ASSERT_TRUE(app_state_load_preset(&s, "scaling"));
  // √d_k keeps the softmax soft; no scaling saturates it (the lesson of this preset).
  const float soft = s.compare[0].trace.layers[0].heads[0].attn.weights.maxCoeff();
  const float hard = s.compare[2].trace.layers[0].heads[0].attn.weights.maxCoeff();
  EXPECT_LT(soft, hard);
  EXPECT_FALSE(app_state_load_preset(&s, "nope"));
}

TEST(Share, TheLinkRoundTripsTheWholeState) {
  ImGui::CreateContext();
  App a;
  app_init(&a, json::object(), nullptr);
  std::string error;
  ASSERT_TRUE(share_apply(&a, "?preset=transformer&view=model&layer=1&head=2&cell=3,2&range=01&lang=zh&shown=0,2", &error)) << error;
  ASSERT_TRUE(app_state_merge(&a.state, json::parse(R"({"attention": {"mask": {"cells": [[4, 1]]}}, "seed": 7})"), &error));
  const std::string q = share_query(a);
  App b;
  app_init(&b, json::object(), nullptr);
  ASSERT_TRUE(share_apply(&b, q, &error)) << error;
  EXPECT_EQ(b.state.config, a.state.config);
  EXPECT_EQ(b.state.preset_id, "transformer");
  EXPECT_EQ(b.state.sel.view, APP_VIEW_MODEL);
  EXPECT_EQ(b.state.sel.layer, 1);
  EXPECT_EQ(b.state.sel.head, 2);
  EXPECT_EQ(b.state.sel.query, 3);
  EXPECT_EQ(b.state.sel.key, 2);
  EXPECT_EQ(b.state.sel.heads_shown, (std::vector<bool>{true, false, true, false}));
  EXPECT_TRUE(b.weights_full_range);
  EXPECT_EQ(b.lang, int(LANG_ZH));
  EXPECT_EQ(share_query(b), q);
  ImGui::DestroyContext();
}

TEST(Share, BadUrlsAreRefusedByNameAndChangeNothing) {
  ImGui::CreateContext();
  App a;
  app_init(&a, json::object(), nullptr);
  const json before = a.state.config;
  const std::pair<const char*, const char*> cases[] = {
      {"?view=graph", "URL parameter view: must be one of"},
      {"?preset=nope", "URL parameter preset: unknown preset"},
      {"?cell=1", "URL parameter cell: must be QUERY,KEY"},
      {"?lang=fr", "URL parameter lang: must be en or zh"},
      {"?heads=abc", "URL parameter heads: must be an integer"},
      {"?cfg=@@@", "URL parameter cfg: not valid base64url"},
      {"?cfg=bm90IGpzb24", "URL parameter cfg: not valid JSON"},
      {"?cfg=W1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tb", "nested too deeply"},
      {"?heads=3", "heads must divide d_model"},
      {"?preset=scaling&heads=7", "heads must divide d_model"},
  };
  for (const auto& [q, expect] : cases) {
    std::string error;
    EXPECT_FALSE(share_apply(&a, q, &error)) << q;
    EXPECT_NE(error.find(expect), std::string::npos) << q << ": " << error;
    EXPECT_EQ(a.state.config, before) << q;
  }
  std::string error;
  EXPECT_TRUE(share_apply(&a, "?hide=causal,bogus&readonly=1", &error)) << error;
  EXPECT_TRUE(a.page.readonly);
  EXPECT_TRUE(a.page.hidden.count("causal"));
  EXPECT_EQ(a.notices.size(), 1u);  // bogus: warned, ignored
  ImGui::DestroyContext();
}

TEST(Export, CsvJsonConfigAndWeightsDescribeTheFocusedHead) {
  ImGui::CreateContext();
  App a;
  app_init(&a, json::parse(R"({"text": "a, b \"c\"", "attention": {"mask": {"causal": true}}})"), nullptr);
  const std::string csv = export_csv(a);
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "matrix,row,row_token,col,col_token,value");
  EXPECT_NE(csv.find("scores,0,a,1,\",\","), std::string::npos) << "tokens with commas are quoted; masked scores empty";
  EXPECT_NE(csv.find("\"\"\"\""), std::string::npos) << "quotes are doubled";
  const json m = json::parse(export_matrices_json(a));
  EXPECT_TRUE(m["scores"][0][1].is_null());
  EXPECT_EQ(m["weights"].size(), a.state.trace.tokens.size());
  std::string error;
  App b;
  app_init(&b, json::object(), nullptr);
  ASSERT_TRUE(import_config(&b, export_config_json(a), &error)) << error;
  EXPECT_EQ(b.state.config, a.state.config);
  EXPECT_FALSE(import_config(&b, "{\"heads\": 5}", &error));
  EXPECT_EQ(error, "heads must divide d_model (got d_model=16, heads=5)");
  std::string bytes;
  ASSERT_TRUE(export_weights(a, &bytes, &error));
  EXPECT_GT(bytes.size(), 1000u);
  ImGui::DestroyContext();
}

}  // namespace
}  // namespace attnplay
