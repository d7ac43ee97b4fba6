/* ae_name_in (see aether/names.h). */
#include "aether/names.h"

const char *ae_name_in(const char *const *names, int count, int v, const char *fallback)
{
    return v >= 0 && v < count ? names[v] : fallback;
}
