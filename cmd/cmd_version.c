/*
 * cairn version: cairn's version and the versions of the libraries it runs
 * with (asked at run time, so a shared library upgrade shows).
 */
#include <stdio.h>
#include <curl/curl.h>
#include <expat.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <sqlite3.h>
#include <yaml.h>

#include "cmd.h"
#include "version.h"

static const struct option options[] = {
	{NULL, 0, NULL, 0}
};

int cmd_version(int argc, char **argv, const struct global_opts *g)
{
	XML_Expat_Version ev = XML_ExpatVersionInfo();
	int c;

	(void)g;
	if ((c = getopt_long(argc, argv, "", options, NULL)) != -1)
		return msg_usage("version", "bad option");
	if (optind < argc)
		return msg_usage("version", "unexpected argument '%s'", argv[optind]);
	printf("cairn %s\n", CAIRN_VERSION);
	printf("libcurl %s\n", curl_version_info(CURLVERSION_NOW)->version);
	printf("OpenSSL %s\n", OpenSSL_version(OPENSSL_VERSION_STRING));
	printf("jansson %s\n", jansson_version_str());
	printf("SQLite %s\n", sqlite3_libversion());
	printf("libyaml %s\n", yaml_get_version_string());
	printf("expat %d.%d.%d\n", ev.major, ev.minor, ev.micro);
	return 0;
}
