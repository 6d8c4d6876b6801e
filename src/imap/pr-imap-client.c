/* work in progress */
#include "pr-imap-client.h"
