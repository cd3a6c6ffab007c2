/*
 * tools/embed.c — build-time tool: turns files (migrations, the web console) into a C
 * source that defines `const struct embedded_file embedded_files[]` (see server/core/embedded.h),
 * so the binary carries its schema and console and needs no files beside it. Each argument is a
 * file, embedded under the path given, or NAME=FILE: FILE embedded under NAME (a generated file
 * of the build tree, such as $(B)/gen/snapshot.sql as migrations/snapshot.sql).
 */
#include <stdio.h>
#include <string.h>

/* The file to read of an argument: after the '=' of NAME=FILE. */
static const char *file_of(const char *arg)
{
	const char *eq = strchr(arg, '=');

	return eq ? eq + 1 : arg;
}

int main(int argc, char **argv)
{
	int i, c;
	long n;

	printf("#include \"server/core/embedded.h\"\n");
	for (i = 1; i < argc; i++) {
		FILE *f = fopen(file_of(argv[i]), "rb");

		if (!f) {
			perror(file_of(argv[i]));
			return 1;
		}
		printf("static const unsigned char f%d[] = {", i);
		n = 0;
		while ((c = fgetc(f)) != EOF)
			printf("%s%d,", n++ % 32 ? "" : "\n", c);
		printf("0};\n");
		fclose(f);
	}
	printf("const struct embedded_file embedded_files[] = {\n");
	for (i = 1; i < argc; i++) /* the name: before the '=' of NAME=FILE */
		printf("\t{\"%.*s\", f%d, sizeof f%d - 1},\n", (int)strcspn(argv[i], "="), argv[i], i, i);
	printf("\t{0, 0, 0}};\n");
	return 0;
}
