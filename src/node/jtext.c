/* json_text: see jtext.h. */
#include "jtext.h"

#include <stdlib.h>
#include <string.h>

json_t *json_text(const char *s)
{
    if (!s)
        s = "";
    json_t *j = json_string(s);
    if (j)
        return j;
    /* Not valid UTF-8: keep the ASCII, mark every other byte. */
    size_t len = strlen(s);
    char *ascii = malloc(len + 1);
    if (!ascii)
        return NULL;
    for (size_t i = 0; i < len; i++)
        ascii[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
    ascii[len] = '\0';
    j = json_string(ascii);
    free(ascii);
    return j;
}
