// attnplay model: the geometry of one head, what the Geometry view draws and edits. The head's query and key vectors on
// their two main directions (PCA of all of its q and k rows together), and the inverse: the smallest change of a
// token's embedding that moves its q (or k) by a given vector.
//
// Dimension glossary: n (rows), d_k (this head), d_model.
//
// Index
//   GeometryPca, geometry_pca            the two main directions of rows [n, d_k] and their shares of the variance
//   geometry_embedding_delta             Δx = Wᵀ (W Wᵀ)⁻¹ Δq through the head's rows of in_proj, RoPE undone first
//   geometry_move_token                  the weights with one token's embedding moved so that its q (or k) moves
#pragma once

#include "model/config.h"
#include "model/weights.h"

#include <string>

namespace attnplay {

struct GeometryPca {
  Eigen::RowVectorXf mean;     // [d_k]
  Eigen::VectorXf v1, v2;      // [d_k] unit directions (v2 = 0 when d_k = 1)
  float share1 = 0, share2 = 0;  // their shares of the total variance
};
GeometryPca geometry_pca(const Mat& rows);  // rows [n, d_k], n >= 1

// The embedding change [d_model] that moves row `row` of head `head`'s q (key: its k) by delta [d_k] in the least-norm
// sense, through layer 0's in_proj rows of that head (the layout mha_forward uses); positions inside attention (RoPE)
// are undone first, as the forward applies them to row `row`.
Vec geometry_embedding_delta(const Config& c, const ModelWeights& w, int head, bool key, int row, const Eigen::VectorXf& delta);

// w with `token`'s embedding row moved by geometry_embedding_delta(c, w, head, key, row, delta). false (w unchanged):
// the token is not in w's vocabulary; *error names it.
bool geometry_move_token(const Config& c, ModelWeights* w, const std::string& token, int head, bool key, int row,
                         const Eigen::VectorXf& delta, std::string* error);

}  // namespace attnplay
