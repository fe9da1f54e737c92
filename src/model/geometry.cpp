// attnplay model: one head's geometry. Contracts: geometry.h.
#include "model/geometry.h"

#include "core/backward.h"
#include "model/network.h"

#include <Eigen/Eigenvalues>

#include <algorithm>

namespace attnplay {

GeometryPca geometry_pca(const Mat& rows) {
  GeometryPca p;
  const int d = int(rows.cols());
  p.mean = rows.colwise().mean();
  const Eigen::MatrixXf c = (rows.rowwise() - p.mean).cast<float>();
  const Eigen::MatrixXf cov = (c.transpose() * c) / float(std::max<Eigen::Index>(1, rows.rows() - 1));
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXf> es(cov);
  const Eigen::VectorXf ev = es.eigenvalues();  // ascending
  const float total = std::max(1e-30f, ev.sum());
  p.v1 = es.eigenvectors().col(d - 1);
  p.v2 = d > 1 ? Eigen::VectorXf(es.eigenvectors().col(d - 2)) : Eigen::VectorXf::Zero(d);
  p.share1 = ev[d - 1] / total;
  p.share2 = d > 1 ? ev[d - 2] / total : 0.0f;
  return p;
}

Vec geometry_embedding_delta(const Config& c, const ModelWeights& w, int head, bool key, int row, const Eigen::VectorXf& delta) {
  const MhaWeights& m = w.layers[0].self_attn;
  const int d_k = m.d_k;
  const MhaHeadRows r = mha_head_rows(m, head);
  const Mat W = m.in_proj_w.middleRows(key ? r.k : r.q, d_k);  // [d_k, d_model]
  Mat d = Mat::Zero(row + 1, d_k);
  d.row(row) = delta.transpose();
  const NetSpec spec = net_spec(c, w);  // positions inside attention, as the forward applies them
  if (spec.rope_base > 0) rope_backward(&d, spec.rope_base);  // Rᵀ: the rotation before it
  const Eigen::MatrixXf g = W * W.transpose() + 1e-6f * Eigen::MatrixXf::Identity(d_k, d_k);
  const Eigen::VectorXf y = g.ldlt().solve(Eigen::VectorXf(d.row(row).transpose()));
  return W.transpose() * y;
}

bool geometry_move_token(const Config& c, ModelWeights* w, const std::string& token, int head, bool key, int row,
                         const Eigen::VectorXf& delta, std::string* error) {
  std::vector<int> ids;
  if (!weights_token_ids(*w, {token}, &ids, error)) return false;
  w->embedding.row(ids[0]) += geometry_embedding_delta(c, *w, head, key, row, delta).transpose();
  return true;
}

}  // namespace attnplay
