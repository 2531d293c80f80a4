#include "engine/logs.h"
