/* work in progress */
#include "pr-imap-sasl.h"
