// attnplay platform: the native executable. With a command it is the CLI (cli.h).
#include "platform/cli.h"

int main(int argc, char** argv) { return attnplay::cli_main(argc, argv); }
