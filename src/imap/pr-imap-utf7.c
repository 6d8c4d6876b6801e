/* work in progress */
#include "pr-imap-utf7.h"
