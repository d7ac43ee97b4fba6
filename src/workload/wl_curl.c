/* libcurl's global initialisation (see wl_curl.h): curl_global_init is not thread-safe, and
 * both the actuators and the scrape collector create handles. */
#include "wl_curl.h"

#include <curl/curl.h>
#include <pthread.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void workload_curl_init(void)
{
    pthread_once(&curl_once, init_once);
}
