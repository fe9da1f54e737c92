// attnplay ui (private): the views of the centre column, one file each (view_*.cpp), drawn by panel_views (views.cpp)
// on the heatmap grid of grid.h. Each draws the focused layer/head of app->state.trace into the available region.
#pragma once

#include "ui/grid.h"

namespace attnplay {

// The table of views and their draw functions: view_table.h. The Attention view's three forms:
void view_attention(App* app);   // view_attention.cpp: weights and scores of the focused head
void view_compare(App* app);     // view_compare.cpp: a preset's variants side by side
void view_ab(App* app);          //   A and B and their difference

// Where the Attention view puts its heatmaps: both side by side (wide) or stacked (tall), or one alone. The Mask
// view asks the same question, so a cell is at the same place in both views.
struct AttentionSlots {
  ImVec2 each;                 // area of one heatmap (below its title line)
  bool weights = true, scores = true;
  bool side = false;           // scores right of weights (else under)
};
AttentionSlots attention_slots(const App& app, ImVec2 avail, int rows, int cols, bool has_scores, ImVec2 room);
// One heatmap of m at `at` in an area `each`: title line, grid (id: the layout name), colour bar. style: sequential for
// weights (viridis over [0, vmax]), diverging for scores. tooltip_values: hover shows m's values, not the focused head's.
void attention_heatmap(App* app, const char* id, const char* title, ImVec2 at, ImVec2 each, ImVec2 room, const Mat& m,
                       HeatmapStyle style, float vmax, GridMode mode, const char* tip, bool tooltip_values = false);

}  // namespace attnplay
