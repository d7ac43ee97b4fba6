/* JSON strings from text the node does not control (command output, error messages, file
 * names). jansson refuses a string that is not valid UTF-8 (json_string returns NULL, and the
 * key would silently vanish from the answer); these texts must still show. */
#ifndef AETHER_NODE_JTEXT_H
#define AETHER_NODE_JTEXT_H

#include <jansson.h>

/* A new JSON string holding s (NULL is taken as ""). Valid UTF-8 is kept as it is; otherwise
 * every byte outside ASCII becomes '?'. NULL only when memory runs out. Caller owns the
 * reference (json_decref, or hand it to json_object_set_new). */
json_t *json_text(const char *s);

#endif
