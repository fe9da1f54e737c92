// attnplay ui (private): the heatmap grid every view draws with. An n_q x n_k matrix becomes a GL texture (the host's
// renderer, shaders/heatmap.*.glsl); ImGui draws labels, the colour bar, numbers in big cells, hover, selection and
// painting on top. Views: views.h; implementation: grid.cpp.
//
// Index
//   [Grid]      Grid, grid_layout              where cell (i, j) is: the same place in every view for the same area
//   [Labels]    label_room                     room the row / column labels want (CJK column labels stand upright)
//   [Caches]    generation_cache, cached_range per-trace-generation data (emptied when the trace changes)
//   [Textures]  shrink_pixels, heatmap_texture, colorbar
//   [Drawing]   GridMode, GridAnnot, grid_view, zoom_bar
//   [Heads]     flow, head_selector_width, head_selector
#pragma once

#include "ui/panels.h"

#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <typeinfo>
#include <string>
#include <vector>

namespace attnplay {

// [Grid] --------------------------------------------------------------------------------------------------
// Geometry shared by every n_q x n_k grid: the weights view, the scores view and the mask grid put cell (i, j)
// at the same place for the same area, so a click on one lands on the same cell of the other. When zoomed, the
// grid keeps its footprint (clip) and shows part of the matrix, bigger.
struct Grid {
  ImVec2 origin;   // top-left of cell (0, 0); left of / above the clip when zoomed and panned
  float cell = 0;  // cell side in pixels
  int rows = 0, cols = 0;
  bool labels = false;
  float label_w = 0, label_h = 0;
  ImVec2 clip_min, clip_max;  // the visible part of the grid
  ImVec2 size() const { return ImVec2(cell * cols, cell * rows); }
  bool cell_at(ImVec2 p, int* i, int* j) const {
    if (p.x < clip_min.x || p.y < clip_min.y || p.x >= clip_max.x || p.y >= clip_max.y) return false;
    const float x = (p.x - origin.x) / cell, y = (p.y - origin.y) / cell;
    if (x < 0 || y < 0 || x >= cols || y >= rows) return false;
    *i = int(y);
    *j = int(x);
    return true;
  }
  // Visible cell range [r0, r1) x [c0, c1).
  int r0() const { return std::max(0, int(std::floor((clip_min.y - origin.y) / cell))); }
  int r1() const { return std::min(rows, int(std::ceil((clip_max.y - origin.y) / cell - 1e-3f))); }
  int c0() const { return std::max(0, int(std::floor((clip_min.x - origin.x) / cell))); }
  int c1() const { return std::min(cols, int(std::ceil((clip_max.x - origin.x) / cell - 1e-3f))); }
};

// Lays a rows x cols grid into an area: square cells up to 4 font heights, labels where they are readable, centred
// across. label_need: room the row labels (x) and column labels (y) want (label_room), < 0 for the most they may
// take. zoom (may be null) is clamped to the matrix here.
Grid grid_layout(ImVec2 area_min, ImVec2 area_size, int rows, int cols, float colorbar_w, AppZoom* zoom = nullptr,
                 ImVec2 label_need = ImVec2(-1, -1));

// [Labels] ------------------------------------------------------------------------------------------------
ImVec2 label_room(const std::vector<std::string>& rows, const std::vector<std::string>& cols);  // {row label w, column label h}

// [Caches] ------------------------------------------------------------------------------------------------
// Per-slot data derived from the trace, valid for one generation: emptied when the trace changes, so it holds
// only what the current frames show. Kept in the App (AppUiLocal::caches, one map per type), not in statics: two Apps
// (A/B tests, the headless tests' many) never see each other's entries.
template <typename T>
std::map<std::string, T>& generation_cache(const App* app, uint64_t generation) {
  AppUiLocal::Cache& c = const_cast<App*>(app)->ui.caches[typeid(T).name()];  // a cache fill, not a state change
  if (!c.map || c.generation != generation) {
    c.map = std::make_shared<std::map<std::string, T>>();
    c.generation = generation;
  }
  return *static_cast<std::map<std::string, T>*>(c.map.get());
}
float cached_range(const App* app, const std::string& slot, const Mat& m, bool absolute);  // max (or max |x|), finite entries

// [Textures] ----------------------------------------------------------------------------------------------
int      shrink_pixels(const Grid& g);   // pixels per side when the grid is under a pixel per cell (GPU averages), else 0
// The host's texture of m (masked cells as the renderer's masked sentinel), keyed by slot and trace generation; 0 headless.
unsigned heatmap_texture(App* app, const std::string& slot, const Mat& m, const MaskMat* mask, HeatmapStyle style, float vmin,
                         float vmax, int max_pixels = 0);
void     colorbar(ImVec2 pos, float height, bool diverging, float vmin, float vmax);

// [Drawing] -----------------------------------------------------------------------------------------------
enum GridMode {
  GRID_MODE_VIEW,    // hover and click-to-select; drag pans when zoomed
  GRID_MODE_PAINT,   // left-drag masks, right-drag unmasks
};

// Numbers printed in the cells when they are big enough to read (seaborn's annot=True), in black or white,
// whichever stands out from the cell's colour.
struct GridAnnot {
  const Mat* values = nullptr;
  HeatmapStyle style = HEATMAP_STYLE_SEQUENTIAL;  // viridis over [vmin, vmax], or diverging over [-vmax, vmax]
  float vmin = 0, vmax = 1;
  bool tooltip_values = false;  // the hover tooltip shows values(i, j) (a mean, a decoding step), not the focused head's
};
constexpr float kAnnotMinCell = 28.0f;  // CSS px: below this a number does not fit a cell
// The grid with its texture, labels, numbers, hover tooltip, selection; paints the mask in GRID_MODE_PAINT; pans and
// zooms when zoomable.
void grid_view(App* app, const char* id, const Grid& g, unsigned tex, const std::vector<std::string>& rows,
               const std::vector<std::string>& cols, const MaskMat* mask, GridMode mode, const char* tooltip_what,
               const GridAnnot& annot = GridAnnot(), bool zoomable = false);
void zoom_bar(App* app, int rows, int cols);  // − / + / 1:1 and the visible range

// [Heads] -------------------------------------------------------------------------------------------------
void  flow(float w);                          // SameLine when w more pixels fit the row, else a new line
float head_selector_width(const App& app);
void  head_selector(App* app);                // layer and head buttons (mean over heads where the view has it)

}  // namespace attnplay
