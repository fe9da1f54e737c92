// attnplay ui: CPU colour maps. Contracts: colormap.h.
#include "ui/colormap.h"

#include <algorithm>

namespace attnplay {

static uint32_t pack(float r, float g, float b, float a = 1.0f) {
  auto c = [](float x) { return uint32_t(std::min(255.0f, std::max(0.0f, x * 255.0f + 0.5f))); };
  return c(r) | c(g) << 8 | c(b) << 16 | c(a) << 24;
}

uint32_t colormap_viridis(float t) {
  t = std::min(1.0f, std::max(0.0f, t));
  static const float c[7][3] = {{0.2777273272234177f, 0.005407344544966578f, 0.3340998053353061f},
                                {0.1050930431085774f, 1.404613529898575f, 1.384590162594685f},
                                {-0.3308618287255563f, 0.214847559468213f, 0.09509516302823659f},
                                {-4.634230498983486f, -5.799100973351585f, -19.33244095627987f},
                                {6.228269936347081f, 14.17993336680509f, 56.69055260068105f},
                                {4.776384997670288f, -13.74514537774601f, -65.35303263337234f},
                                {-5.435455855934631f, 4.645852612178535f, 26.3124352495832f}};
  float rgb[3];
  for (int k = 0; k < 3; ++k) {
    float v = c[6][k];
    for (int i = 5; i >= 0; --i) v = c[i][k] + t * v;
    rgb[k] = v;
  }
  return pack(rgb[0], rgb[1], rgb[2]);
}

uint32_t colormap_diverging(float t) {
  t = std::min(1.0f, std::max(0.0f, t));
  const float lo[3] = {0.230f, 0.299f, 0.754f}, mid[3] = {0.865f, 0.865f, 0.865f}, hi[3] = {0.706f, 0.016f, 0.150f};
  float rgb[3];
  for (int k = 0; k < 3; ++k)
    rgb[k] = t < 0.5f ? lo[k] + (mid[k] - lo[k]) * t * 2.0f : mid[k] + (hi[k] - mid[k]) * (t - 0.5f) * 2.0f;
  return pack(rgb[0], rgb[1], rgb[2]);
}

uint32_t colormap_head(int head, float alpha) {
  static const float tab10[10][3] = {{0.122f, 0.467f, 0.706f}, {1.000f, 0.498f, 0.055f}, {0.173f, 0.627f, 0.173f},
                                     {0.839f, 0.153f, 0.157f}, {0.580f, 0.404f, 0.741f}, {0.549f, 0.337f, 0.294f},
                                     {0.890f, 0.467f, 0.761f}, {0.498f, 0.498f, 0.498f}, {0.737f, 0.741f, 0.133f},
                                     {0.090f, 0.745f, 0.812f}};
  const float* c = tab10[((head % 10) + 10) % 10];
  return pack(c[0], c[1], c[2], alpha);
}

}  // namespace attnplay
