/* Prometheus text format 0.0.4 writer (see prom_write.h). */
#include "prom_write.h"

#include <ctype.h>
#include <string.h>

int prom_write_valid_name(const char *name)
{
    if (!name || !*name)
        return 0;
    for (const char *p = name; *p; p++) {
        int ok = isalpha((unsigned char)*p) || *p == '_' || *p == ':' ||
                 (p != name && isdigit((unsigned char)*p));
        if (!ok || (unsigned char)*p > 127)
            return 0;
    }
    return 1;
}

int prom_write_valid_label(const char *name)
{
    if (!name || !*name || (name[0] == '_' && name[1] == '_'))
        return 0;
    for (const char *p = name; *p; p++) {
        int ok =
            isalpha((unsigned char)*p) || *p == '_' || (p != name && isdigit((unsigned char)*p));
        if (!ok || (unsigned char)*p > 127)
            return 0;
    }
    return 1;
}

/* HELP text escapes backslash and newline; label values also escape the double quote. */
static void escape(struct sbuf *b, const char *s, int quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            sbuf_append(b, "\\\\", 2);
        else if (*s == '\n')
            sbuf_append(b, "\\n", 2);
        else if (quote && *s == '"')
            sbuf_append(b, "\\\"", 2);
        else
            sbuf_append(b, s, 1);
    }
}

void prom_write_family(struct sbuf *b, const char *name, const char *type, const char *help)
{
    sbuf_printf(b, "# HELP %s ", name);
    escape(b, help ? help : "", 0);
    sbuf_printf(b, "\n# TYPE %s %s\n", name, type);
}

void prom_write_sample(struct sbuf *b, const char *name, const char *const *labels, double value)
{
    sbuf_append(b, name, strlen(name));
    if (labels && labels[0]) {
        sbuf_append(b, "{", 1);
        for (int i = 0; labels[i] && labels[i + 1]; i += 2) {
            if (i)
                sbuf_append(b, ",", 1);
            sbuf_printf(b, "%s=\"", labels[i]);
            escape(b, labels[i + 1], 1);
            sbuf_append(b, "\"", 1);
        }
        sbuf_append(b, "}", 1);
    }
    sbuf_append(b, " ", 1);
    sbuf_number(b, value);
    sbuf_append(b, "\n", 1);
}
