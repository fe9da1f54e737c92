// Heatmap pass: one R32F texel per matrix cell -> colour. Runs once per data change into an RGBA8 texture
// that ImGui draws. When output pixels are fewer than cells (thumbnails, thousands of tokens on a few hundred
// pixels) each pixel shows the mean of the unmasked cells it covers (at most 16 x 16 of them sampled evenly), the
// way the model's own thumbnails are made, so a diagonal one cell wide does not vanish between samples.
//   u_style 0: sequential (viridis) over [u_vmin, u_vmax]   (softmax weights)
//   u_style 1: diverging (blue-white-red) over [-u_vmax, u_vmax]   (scores, Q/K/V, differences)
// Cells above 1e37 are masked: drawn in a neutral grey that neither colour map uses.
in vec2 v_uv;
out vec4 frag_color;
uniform sampler2D u_data;
uniform int u_style;
uniform float u_vmin;
uniform float u_vmax;
uniform vec2 u_out;   // output size in pixels

// Polynomial fit of matplotlib's viridis (sRGB), t in [0, 1]; the same coefficients as src/ui/colormap.cpp.
vec3 viridis(float t) {
  const vec3 c0 = vec3(0.2777273272234177, 0.005407344544966578, 0.3340998053353061);
  const vec3 c1 = vec3(0.1050930431085774, 1.404613529898575, 1.384590162594685);
  const vec3 c2 = vec3(-0.3308618287255563, 0.214847559468213, 0.09509516302823659);
  const vec3 c3 = vec3(-4.634230498983486, -5.799100973351585, -19.33244095627987);
  const vec3 c4 = vec3(6.228269936347081, 14.17993336680509, 56.69055260068105);
  const vec3 c5 = vec3(4.776384997670288, -13.74514537774601, -65.35303263337234);
  const vec3 c6 = vec3(-5.435455855934631, 4.645852612178535, 26.3124352495832);
  return c0 + t * (c1 + t * (c2 + t * (c3 + t * (c4 + t * (c5 + t * c6)))));
}

vec3 diverging(float t) {  // t in [0, 1]: blue, white at 0.5, red
  const vec3 lo = vec3(0.230, 0.299, 0.754), mid = vec3(0.865, 0.865, 0.865), hi = vec3(0.706, 0.016, 0.150);
  return t < 0.5 ? mix(lo, mid, t * 2.0) : mix(mid, hi, (t - 0.5) * 2.0);
}

void main() {
  ivec2 size = textureSize(u_data, 0);
  vec2 px = floor(gl_FragCoord.xy);  // this pixel covers cells [px·size/out, (px+1)·size/out)
  ivec2 c0 = clamp(ivec2(floor(px * vec2(size) / u_out)), ivec2(0), size - 1);
  ivec2 c1 = clamp(ivec2(floor((px + 1.0) * vec2(size) / u_out)), c0 + 1, size);
  ivec2 step = max((c1 - c0) / 16, ivec2(1));
  float sum = 0.0, count = 0.0;
  for (int y = c0.y; y < c1.y; y += step.y) {
    for (int x = c0.x; x < c1.x; x += step.x) {
      float c = texelFetch(u_data, ivec2(x, y), 0).r;
      if (c <= 1e37) {
        sum += c;
        count += 1.0;
      }
    }
  }
  if (count == 0.0) {
    frag_color = vec4(0.42, 0.42, 0.42, 1.0);
    return;
  }
  float v = sum / count;
  vec3 c;
  if (u_style == 0) {
    c = viridis(clamp((v - u_vmin) / max(u_vmax - u_vmin, 1e-30), 0.0, 1.0));
  } else {
    c = diverging(clamp(0.5 + 0.5 * v / max(u_vmax, 1e-30), 0.0, 1.0));
  }
  frag_color = vec4(c, 1.0);
}
