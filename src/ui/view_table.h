// attnplay ui: the one table of views. Everything that knows a view reads it from here: the tab bar, the view combo
// and the View menu (views.cpp, app_menus.cpp), the share link and embed.html's view= (share.cpp), the JS API's
// setView and views() (by name, never by index: main_web.cpp), the .d.ts and the Python package (the build writes
// views.json from the module's table), and the tests. A new view is its enum value and its row here, its file
// (view_<name>.cpp, which defines the draw function declared below) and its caption in each string table
// ("view.<name>").
#pragma once

namespace attnplay {

struct App;
struct AppState;

enum AppView {
  APP_VIEW_ATTENTION,     // weights and scores heatmaps with colour bars (A/B and a preset's variants side by side)
  APP_VIEW_MASK,          // the mask grid (same cell coordinates as the weights view)
  APP_VIEW_HEADS,         // BertViz-style lines from queries to keys, one colour per head
  APP_VIEW_MODEL,         // layers x heads thumbnails
  APP_VIEW_QKV,           // Q, K, V and context matrices
  APP_VIEW_GEOMETRY,      // 2-D PCA of the focused head's queries and keys; drag a token to move its embedding
  APP_VIEW_DECODE,        // mode seq2seq: greedy decoding step by step, each step's cross-attention row
  APP_VIEW_COUNT,
};

// The draw functions (one file each) and the conditions some views have.
void view_attention_tab(App* app);   // views.cpp: view_attention, view_ab or view_compare (views.h)
void view_mask(App* app);            // view_mask.cpp
void view_heads(App* app);           // view_heads.cpp
void view_model(App* app);           // view_model.cpp
void view_qkv(App* app);             // view_qkv.cpp
void view_geometry(App* app);        // view_geometry.cpp
void view_decode(App* app);          // view_decode.cpp
bool view_mask_offered(const AppState& s);   // views.cpp: the config's mask (seq2seq: the encoder band's)
bool view_geometry_offered(const AppState& s);  // Geometry moves the embeddings of a self-attention model of the
                                             //   playground's own (not seq2seq's, not a pretrained checkpoint's)
bool view_seq2seq_only(const AppState& s);   //   Decode decodes an encoder-decoder

struct AppViewInfo {
  const char* name;                  // the share link's and embed.html's view=, the JS API's setView (and "view.<name>":
                                     //   its caption in the string tables; the English one is also the tab's id)
  void (*draw)(App* app);
  bool needs_qkv;                    // reads the model's q, k, v: not offered for imported attention maps (weights only)
  bool (*offered)(const AppState& s);  // nullptr: always (else: when it has something to show)
};

inline constexpr AppViewInfo kAppViews[APP_VIEW_COUNT] = {
    // name       draw                needs_qkv  offered
    {"attention", view_attention_tab, false,     nullptr},
    {"mask",      view_mask,          true,      view_mask_offered},
    {"heads",     view_heads,         false,     nullptr},
    {"model",     view_model,         false,     nullptr},
    {"qkv",       view_qkv,           true,      nullptr},
    {"geometry",  view_geometry,      true,      view_geometry_offered},
    {"decode",    view_decode,        true,      view_seq2seq_only},
};

}  // namespace attnplay
