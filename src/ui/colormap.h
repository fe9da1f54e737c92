// attnplay ui: colour maps on the CPU (colour bars, head lines), matching shaders/heatmap.frag.glsl.
#pragma once

#include <cstdint>

namespace attnplay {

uint32_t colormap_viridis(float t);     // t in [0, 1] -> ImU32 (ABGR), same polynomial as the shader
uint32_t colormap_diverging(float t);   // t in [0, 1]: blue, white at 0.5, red
uint32_t colormap_head(int head, float alpha);  // a distinct colour per head (Tableau 10), alpha in [0, 1]

}  // namespace attnplay
