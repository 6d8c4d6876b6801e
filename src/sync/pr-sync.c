/* work in progress */
#include "pr-sync.h"
