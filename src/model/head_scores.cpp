// attnplay model: the head finder's scores. Contracts and formulas: head_scores.h.
#include "model/head_scores.h"

#include <cmath>
#include <limits>
#include <map>

namespace attnplay {

float head_score(HeadScore s, const Mat& w, const std::vector<std::string>& tokens) {
  const int n = int(w.rows());
  const float nan = std::numeric_limits<float>::quiet_NaN();
  double sum = 0;
  int rows = 0;
  switch (s) {
    case HEAD_SCORE_PREVIOUS:
    case HEAD_SCORE_FIRST:
      for (int i = 1; i < n; ++i, ++rows) sum += w(i, s == HEAD_SCORE_PREVIOUS ? i - 1 : 0);
      break;
    case HEAD_SCORE_DIAGONAL:
      for (int i = 0; i < n && i < w.cols(); ++i, ++rows) sum += w(i, i);
      break;
    case HEAD_SCORE_ENTROPY:
      for (int i = 0; i < n; ++i, ++rows) {
        double h = 0;
        for (int j = 0; j < w.cols(); ++j)
          if (w(i, j) > 0) h -= double(w(i, j)) * std::log(double(w(i, j)));
        sum += h;
      }
      break;
    case HEAD_SCORE_INDUCTION: {
      // For each row, the keys j whose previous token is this row's token (an earlier copy's successor).
      std::map<std::string, std::vector<int>> after;  // token -> the positions j with tok[j-1] == token, j < i
      for (int i = 0; i < n && i < int(tokens.size()); ++i) {
        const auto it = after.find(tokens[size_t(i)]);
        if (it != after.end() && it->second.front() < i) {  // (a key after an earlier copy, not this row itself)
          double r = 0;
          for (int j : it->second)
            if (j < i) r += w(i, j);
          sum += r;
          ++rows;
        }
        if (i + 1 < n) after[tokens[size_t(i)]].push_back(i + 1);  // for later rows: i + 1 follows a copy of tok[i]
      }
      break;
    }
    case HEAD_SCORE_COUNT: break;
  }
  return rows ? float(sum / rows) : nan;
}

std::vector<Mat> head_scores(const Trace& t) {
  const int layers = int(t.layers.size()), heads = layers ? int(t.layers[0].heads.size()) : 0;
  std::vector<Mat> out(HEAD_SCORE_COUNT, Mat::Constant(layers, heads, std::numeric_limits<float>::quiet_NaN()));
  for (int l = 0; l < layers; ++l)
    for (int h = 0; h < heads; ++h) {
      const Mat& w = t.layers[size_t(l)].heads[size_t(h)].attn.weights;
      if (w.size() == 0) continue;
      for (int s = 0; s < HEAD_SCORE_COUNT; ++s) out[size_t(s)](l, h) = head_score(HeadScore(s), w, t.tokens);
    }
  return out;
}

}  // namespace attnplay
