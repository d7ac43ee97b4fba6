/* The log moved to the util library: aether/nlog.h. Kept so that `#include "log.h"` in the
 * daemon's sources goes on working. */
#include "aether/nlog.h"
