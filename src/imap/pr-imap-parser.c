/* work in progress */
#include "pr-imap-parser.h"
