/* work in progress */
#include "pr-imap-response.h"
