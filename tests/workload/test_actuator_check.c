/* Each actuator kind's own config rules (actuator_check_config), as the node runs them right
 * after loading: through the loader, so every message carries the file and line of its key, and
 * directly on a config, as actuator_open sees it. */
#include "aether/actuator.h"
#include "aether/cfgload.h"
#include "aether/error.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

/* Loads text with the kinds' checks; asserts status `code` and the exact message. */
static void load_fails(int code, const char *text, const char *want)
{
    char err[512] = "";
    struct ae_config c;
    int rc = cfg_load_string(text, strlen(text), "t.toml", actuator_check_config, &c, NULL, err,
                             sizeof err);
    if (rc != code)
        fail_msg("status %d (%s), expected %d; message: %s", rc, ae_strerror(rc), code, err);
    assert_string_equal(err, want);
    assert_int_equal(c.blueprint_count, 0);
}

static void process_rules(void **state)
{
    (void)state;
    load_fails(AE_EINVAL, "[[blueprint]]\nname = \"web\"\nmax_instances = 2\n",
               "t.toml:1: blueprint.web.command must not be empty for actuator \"process\"");
    load_fails(AE_ERANGE,
               "[[blueprint]]\nname = \"web\"\ncommand = [\"w\"]\nmax_instances = 10\n"
               "port_base = 65530\n",
               "t.toml:5: blueprint.web.port_base = 65530 is out of range 1..65526");
}

static void exec_rules(void **state)
{
    (void)state;
    load_fails(AE_EINVAL,
               "[node]\nlog_level = \"info\"\n\n[[blueprint]]\nname = \"b\"\nactuator = \"exec\"\n",
               "t.toml:4: blueprint.b.scale_command must not be empty for actuator \"exec\"");
}

static void valid_configs_pass(void **state)
{
    (void)state;
    const char *text =
        "[[blueprint]]\nname = \"web\"\ncommand = [\"w\"]\nmax_instances = 10\n"
        "port_base = 65526\n"
        "[[blueprint]]\nname = \"b\"\nactuator = \"exec\"\nscale_command = [\"s\"]\n";
    char err[512] = "";
    struct ae_config c;
    assert_int_equal(cfg_load_string(text, strlen(text), "t.toml", actuator_check_config, &c, NULL,
                                     err, sizeof err),
                     0);
    assert_int_equal(c.blueprint_count, 2);
    /* the same rules on a config built in memory, and actuator_open refuses what they refuse */
    assert_int_equal(actuator_check_config(&c, err, sizeof err), 0);
    c.blueprints[0].port_base = 65527;
    assert_int_equal(actuator_check_config(&c, err, sizeof err), AE_ERANGE);
    assert_string_equal(err, "blueprint.web.port_base = 65527 is out of range 1..65526");
    struct actuator *a = (struct actuator *)1;
    assert_int_equal(actuator_open(&c.blueprints[0], &a, err, sizeof err), AE_ERANGE);
    assert_null(a);
    assert_string_equal(err, "blueprint.web.port_base = 65527 is out of range 1..65526");
    cfg_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(process_rules),
        cmocka_unit_test(exec_rules),
        cmocka_unit_test(valid_configs_pass),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
