// attnplay platform: the native executable. With a command it is the CLI (cli.h); without one, or with
// desktop options (--config, --size, ...), it opens the desktop app (desktop.h).
#include "platform/cli.h"
#include "platform/desktop.h"

#include <string>

int main(int argc, char** argv) {
  const std::string first = argc > 1 ? argv[1] : "";
  if (first.empty() || (first.rfind("--", 0) == 0 && first != "--version" && first != "--help"))
    return attnplay::desktop_main(argc, argv);
  return attnplay::cli_main(argc, argv);
}
