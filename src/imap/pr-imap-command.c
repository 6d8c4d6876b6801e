/* work in progress */
#include "pr-imap-command.h"
