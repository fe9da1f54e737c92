// Full-target quad for the heatmap pass: a_pos in [0,1]^2 -> clip space and v_uv.
in vec2 a_pos;
out vec2 v_uv;
void main() {
  v_uv = a_pos;  // framebuffer row 0 = texture v 0 = the top row ImGui draws = matrix row 0
  gl_Position = vec4(a_pos * 2.0 - 1.0, 0.0, 1.0);
}
