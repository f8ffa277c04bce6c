CMakeFiles/anomalyd_core.dir/src/ad_err.c.o: /work/main/src/ad_err.c \
 /usr/include/stdc-predef.h /work/main/include/ad_err.h
