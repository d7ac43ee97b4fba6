/* The lag statistics moved to the util library: aether/lagstat.h. Kept so that
 * `#include "lagstat.h"` in the daemon's sources goes on working. */
#include "aether/lagstat.h"
