/* work in progress */
#include "pr-imap-seqset.h"
