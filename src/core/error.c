/* ae_strerror: the text side of the project-wide error list in aether/error.h. */
#include "aether/error.h"

const char *ae_strerror(int status)
{
    switch (status) {
    case AE_OK:
        return "ok";
#define AE_ERRNO_CASE(name, value, text)                                                           \
    case value:                                                                                    \
        return text;
        AE_ERRNO_MAP(AE_ERRNO_CASE)
#undef AE_ERRNO_CASE
    }
    return "unknown error";
}
