/* work in progress */
#include "pr-store.h"
