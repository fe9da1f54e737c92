// attnplay model: the head finder. Scores that name what a head does, computed from its attention weights, so a
// learner can sort a real model's 144 heads and find the interesting ones (previous-token, sink, induction heads).
//
// Index
//   HeadScore, kHeadScores     the one table of scores: name (the UI's "score.<name>", the pack's key) and formula
//   head_score                 one head's score from its weights and the tokens
//   head_scores                every head of a trace: [score][layers, heads]
#pragma once

#include "core/attention.h"
#include "model/model.h"

#include <string>
#include <vector>

namespace attnplay {

enum HeadScore {
  HEAD_SCORE_PREVIOUS,   // weight on the token just before
  HEAD_SCORE_FIRST,      // weight on the first token (an attention sink)
  HEAD_SCORE_INDUCTION,  // weight on the token after an earlier copy of this one
  HEAD_SCORE_DIAGONAL,   // weight on itself
  HEAD_SCORE_ENTROPY,    // how spread each row is (nats)
  HEAD_SCORE_COUNT,
};

struct HeadScoreInfo {
  const char* name;      // "previous", "first", "induction", "diagonal", "entropy"
  const char* formula;   // plain text, the same in every language (the help text around it is translated)
};
inline constexpr HeadScoreInfo kHeadScores[HEAD_SCORE_COUNT] = {
    {"previous",  "mean over i >= 1 of w[i, i-1]"},
    {"first",     "mean over i >= 1 of w[i, 0]"},
    {"induction", "mean over rows i with an earlier j >= 1, tok[j-1] = tok[i], of the sum of w[i, j] over those j"},
    {"diagonal",  "mean over i of w[i, i]"},
    {"entropy",   "mean over i of -sum_j w[i, j] ln w[i, j]"},
};

// w [n_q, n_k] a head's weights (rows sum to 1, or are all 0 when fully masked); tokens [n] (self-attention, n = n_q
// = n_k; only induction reads them). NaN when no row defines it (one token; no repeated token for induction).
float head_score(HeadScore s, const Mat& w, const std::vector<std::string>& tokens);
// Every head whose weights the trace holds: out[s] is [layers, heads] (NaN where a lean trace lacks the weights).
std::vector<Mat> head_scores(const Trace& t);

}  // namespace attnplay
