// attnplay platform: the command line (../shared/SPEC.md §4).
//
//   attnplay compute CONFIG.json|- [--weights MODEL.safetensors] [-o OUT.json]   print or write the result JSON
//   attnplay weights CONFIG.json|- -o MODEL.safetensors                          write the seed's weights
//   attnplay --version                                                           version, SIMD, Eigen instruction sets
//
// Exit 0 on success; 2 on bad input with one line on stderr naming the problem; nothing is written on failure
// (outputs go to a temporary file renamed into place only when complete).
#pragma once

namespace attnplay {

int cli_main(int argc, char** argv);   // argv[1] is the command; returns the process exit code

}  // namespace attnplay
