// attnplay render: what the UI tells the heatmap renderer, without any GL: the colour scale of a matrix and the value
// that marks a masked cell. The UI (no GL code) and the renderer both include this one header (the CMake target
// attnplay_heatmap_style), so a style crosses from a view to the shader as this enum, never as a bare int.
#pragma once

namespace attnplay {

enum HeatmapStyle {
  HEATMAP_STYLE_SEQUENTIAL,  // viridis over [vmin, vmax] (weights)
  HEATMAP_STYLE_DIVERGING,   // blue-white-red over [-vmax, vmax] (scores, differences, the mask grid)
};

constexpr float kHeatmapMasked = 3.0e38f;   // a cell value above 1e37 is drawn as masked

}  // namespace attnplay
