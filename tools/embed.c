/*
 * tools/embed.c — build-time tool: turns files (migrations, the web console) into a C
 * source that defines `const struct embedded_file embedded_files[]` (see server/core/embedded.h),
 * so the binary carries its schema and console and needs no files beside it.
 */
#include <stdio.h>

int main(int argc, char **argv)
{
	int i, c;
	long n;

	printf("#include \"server/core/embedded.h\"\n");
	for (i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");

		if (!f) {
			perror(argv[i]);
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
	for (i = 1; i < argc; i++)
		printf("\t{\"%s\", f%d, sizeof f%d - 1},\n", argv[i], i, i);
	printf("\t{0, 0, 0}};\n");
	return 0;
}
