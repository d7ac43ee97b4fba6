/* Fuzz target: prom_parse in both modes must never crash, leak or read out of bounds, and an
 * accepted document must answer the collector's queries. */
#include "aether/prom.h"

#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int mode = 0; mode < 2; mode++) {
        struct prom_doc *doc = NULL;
        char err[256];
        enum prom_format f = mode ? PROM_FORMAT_OPENMETRICS : PROM_FORMAT_TEXT;
        if (prom_parse((const char *)data, size, f, &doc, err, sizeof(err)) == 0) {
            double v;
            struct prom_histogram h;
            for (size_t i = 0; i < doc->nsamples && i < 8; i++) {
                (void)prom_sum(doc, doc->samples[i].name, &v);
                (void)prom_label_value(&doc->samples[i], "le");
            }
            (void)prom_histogram_get(doc, "a", &h);
            prom_doc_free(doc);
        }
    }
    return 0;
}
