// attnplay ui: the page's URL <-> the whole UI state, and the page options of embed.html.
//
//   config   preset=ID, then cfg=<base64url JSON>, then text, tokenizer, heads, d_model, kind, mask, mode, seed
//            (SPEC §6; decoded by model/url_state.h)
//   view     view=attention|mask|heads|model|qkv, layer=N, head=N, cell=Q,K (the walkthrough pair),
//            shown=0,2 (head-view heads), range=01 (weights over [0, 1]), lang=en|zh
//   page     hide=a,b,... (panels and controls to hide), readonly=1; on embed.html view= shows that view alone
// The hovered cell is not state. Every value is checked: a bad one refuses the whole URL with a message naming the
// parameter (the page keeps its defaults); unknown hide= names only warn.
#pragma once

#include "ui/app.h"

#include <string>

namespace attnplay {

std::string share_query(const App& app);                                          // "preset=..&cfg=..&view=.." (no '?')
bool        share_apply(App* app, const std::string& query, std::string* error);  // URL -> state (all or nothing)
const std::vector<std::string>& share_hide_names();                               // what hide= understands

}  // namespace attnplay
