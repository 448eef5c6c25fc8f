# Generated from schemas/storyboard.schema.json by `python -m storyboard.precompiled.generate`
# (fastjsonschema 2.22.3). Do not edit.
# ruff: noqa
# mypy: ignore-errors
SCHEMA_SHA256 = "0139bfcf7f2790f899253f9bab899b010999b689192f26c0668587344e2f5a58"
VERSION = "2.22.3"
from decimal import Decimal
import re
from storyboard.precompiled import JsonSchemaValueException, JsonSchemaValuesException  # noqa: F401


REGEX_PATTERNS = {
    '^[a-z0-9][a-z0-9_-]*$': re.compile('^[a-z0-9][a-z0-9_-]*\\Z'),
    '^[A-Za-z_][A-Za-z0-9_]*$': re.compile('^[A-Za-z_][A-Za-z0-9_]*\\Z'),
    '^[1-9][0-9]{1,4}x[1-9][0-9]{1,4}$': re.compile('^[1-9][0-9]{1,4}x[1-9][0-9]{1,4}\\Z'),
    '\\{[{%#]': re.compile('\\{[{%#]'),
    '\\.(csv|json|ya?ml)$': re.compile('\\.(csv|json|ya?ml)\\Z')
}

NoneType = type(None)

def validate_https___storyboard_dev_schemas_storyboard_schema_json(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['storyboard', 'name', 'clips']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain " + (str(sorted(data__missing_keys)) + " properties"))
        data_keys = set(data.keys())
        if "storyboard" in data_keys:
            data_keys.remove("storyboard")
            data__storyboard = data["storyboard"]
            if not (isinstance(data__storyboard, (int, float)) and not isinstance(data__storyboard, bool) and data__storyboard == 1):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".storyboard must be same as const definition: 1")
        if "name" in data_keys:
            data_keys.remove("name")
            data__name = data["name"]
            if not isinstance(data__name, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".name must be string")
            if isinstance(data__name, str):
                data__name_len = len(data__name)
                if data__name_len > 64:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".name must be shorter than or equal to 64 characters")
                if not REGEX_PATTERNS['^[a-z0-9][a-z0-9_-]*$'].search(data__name):
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".name must match pattern ^[a-z0-9][a-z0-9_-]*$")
        if "model" in data_keys:
            data_keys.remove("model")
            data__model = data["model"]
            if not (isinstance(data__model, str) and data__model == 'kwaivgi/kling-o3/text-to-video'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".model must be one of ['kwaivgi/kling-o3/text-to-video']")
        if "vars" in data_keys:
            data_keys.remove("vars")
            data__vars = data["vars"]
            if not isinstance(data__vars, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".vars must be object")
            data__vars_is_dict = isinstance(data__vars, dict)
            if data__vars_is_dict:
                data__vars_keys = set(data__vars.keys())
                data__vars_len = len(data__vars)
                if data__vars_len != 0:
                    data__vars_property_names = True
                    for data__vars_key in data__vars:
                        try:
                            if isinstance(data__vars_key, str):
                                if not REGEX_PATTERNS['^[A-Za-z_][A-Za-z0-9_]*$'].search(data__vars_key):
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".vars must match pattern ^[A-Za-z_][A-Za-z0-9_]*$")
                        except (JsonSchemaValueException, JsonSchemaValuesException):
                            data__vars_property_names = False
                    if not data__vars_property_names:
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".vars must be named by propertyName definition")
        if "defaults" in data_keys:
            data_keys.remove("defaults")
            data__defaults = data["defaults"]
            validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_settings(data__defaults, custom_formats, (name_prefix or "data") + ".defaults")
        if "variants" in data_keys:
            data_keys.remove("variants")
            data__variants = data["variants"]
            validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_variants(data__variants, custom_formats, (name_prefix or "data") + ".variants")
        if "budget" in data_keys:
            data_keys.remove("budget")
            data__budget = data["budget"]
            if not isinstance(data__budget, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".budget must be object")
            data__budget_is_dict = isinstance(data__budget, dict)
            if data__budget_is_dict:
                data__budget_keys = set(data__budget.keys())
                if "max_cost_usd" in data__budget_keys:
                    data__budget_keys.remove("max_cost_usd")
                    data__budget__maxcostusd = data__budget["max_cost_usd"]
                    if not isinstance(data__budget__maxcostusd, (int, float, Decimal)) or isinstance(data__budget__maxcostusd, bool):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".budget.max_cost_usd must be number")
                    if isinstance(data__budget__maxcostusd, (int, float, Decimal)) and not isinstance(data__budget__maxcostusd, bool):
                        if data__budget__maxcostusd > 1000000000:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".budget.max_cost_usd must be smaller than or equal to 1000000000")
                        if data__budget__maxcostusd <= 0:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".budget.max_cost_usd must be bigger than 0")
                if "max_seconds" in data__budget_keys:
                    data__budget_keys.remove("max_seconds")
                    data__budget__maxseconds = data__budget["max_seconds"]
                    if not isinstance(data__budget__maxseconds, (int)) and not (isinstance(data__budget__maxseconds, float) and data__budget__maxseconds.is_integer()) or isinstance(data__budget__maxseconds, bool):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".budget.max_seconds must be integer")
                    if isinstance(data__budget__maxseconds, (int, float, Decimal)) and not isinstance(data__budget__maxseconds, bool):
                        if data__budget__maxseconds < 1:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".budget.max_seconds must be bigger than or equal to 1")
                        if data__budget__maxseconds > 1000000000:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".budget.max_seconds must be smaller than or equal to 1000000000")
                if data__budget_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".budget must not contain "+str(data__budget_keys)+" properties")
        if "cut" in data_keys:
            data_keys.remove("cut")
            data__cut = data["cut"]
            if not isinstance(data__cut, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".cut must be object")
            data__cut_is_dict = isinstance(data__cut, dict)
            if data__cut_is_dict:
                data__cut_keys = set(data__cut.keys())
                if "transition" in data__cut_keys:
                    data__cut_keys.remove("transition")
                    data__cut__transition = data__cut["transition"]
                    validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_transition(data__cut__transition, custom_formats, (name_prefix or "data") + ".cut.transition")
                if "transition_seconds" in data__cut_keys:
                    data__cut_keys.remove("transition_seconds")
                    data__cut__transitionseconds = data__cut["transition_seconds"]
                    validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_transition_seconds(data__cut__transitionseconds, custom_formats, (name_prefix or "data") + ".cut.transition_seconds")
                if "music" in data__cut_keys:
                    data__cut_keys.remove("music")
                    data__cut__music = data__cut["music"]
                    if not isinstance(data__cut__music, (str)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".cut.music must be string")
                    if isinstance(data__cut__music, str):
                        data__cut__music_len = len(data__cut__music)
                        if data__cut__music_len < 1:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".cut.music must be longer than or equal to 1 characters")
                if "music_db" in data__cut_keys:
                    data__cut_keys.remove("music_db")
                    data__cut__musicdb = data__cut["music_db"]
                    if not isinstance(data__cut__musicdb, (int, float, Decimal)) or isinstance(data__cut__musicdb, bool):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".cut.music_db must be number")
                    if isinstance(data__cut__musicdb, (int, float, Decimal)) and not isinstance(data__cut__musicdb, bool):
                        if data__cut__musicdb < -60:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".cut.music_db must be bigger than or equal to -60")
                        if data__cut__musicdb > 0:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".cut.music_db must be smaller than or equal to 0")
                if "burn_captions" in data__cut_keys:
                    data__cut_keys.remove("burn_captions")
                    data__cut__burncaptions = data__cut["burn_captions"]
                    if not isinstance(data__cut__burncaptions, (bool)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".cut.burn_captions must be boolean")
                if "size" in data__cut_keys:
                    data__cut_keys.remove("size")
                    data__cut__size = data__cut["size"]
                    if not isinstance(data__cut__size, (str)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".cut.size must be string")
                    if isinstance(data__cut__size, str):
                        if not REGEX_PATTERNS['^[1-9][0-9]{1,4}x[1-9][0-9]{1,4}$'].search(data__cut__size):
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".cut.size must match pattern ^[1-9][0-9]{1,4}x[1-9][0-9]{1,4}$")
                if "fps" in data__cut_keys:
                    data__cut_keys.remove("fps")
                    data__cut__fps = data__cut["fps"]
                    if not isinstance(data__cut__fps, (int)) and not (isinstance(data__cut__fps, float) and data__cut__fps.is_integer()) or isinstance(data__cut__fps, bool):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".cut.fps must be integer")
                    if isinstance(data__cut__fps, (int, float, Decimal)) and not isinstance(data__cut__fps, bool):
                        if data__cut__fps < 1:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".cut.fps must be bigger than or equal to 1")
                        if data__cut__fps > 120:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".cut.fps must be smaller than or equal to 120")
                if data__cut_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".cut must not contain "+str(data__cut_keys)+" properties")
        if "clips" in data_keys:
            data_keys.remove("clips")
            data__clips = data["clips"]
            if not isinstance(data__clips, (list, tuple)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".clips must be array")
            data__clips_is_list = isinstance(data__clips, (list, tuple))
            if data__clips_is_list:
                data__clips_len = len(data__clips)
                if data__clips_len < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".clips must contain at least 1 items")
                for data__clips_x, data__clips_item in enumerate(data__clips):
                    validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_clip(data__clips_item, custom_formats, (name_prefix or "data") + ".clips[{data__clips_x}]".format(**locals()))
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    return data

def validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_clip(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object")
    try:
        data_is_dict = isinstance(data, dict)
        if data_is_dict:
            data__missing_keys = set(['shots']) - data.keys()
            if data__missing_keys:
                raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain " + (str(sorted(data__missing_keys)) + " properties"))
            data_keys = set(data.keys())
            if "shots" in data_keys:
                data_keys.remove("shots")
                data__shots = data["shots"]
                if not isinstance(data__shots, (list, tuple)):
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".shots must be array")
    except (JsonSchemaValueException, JsonSchemaValuesException):
        data_is_dict = isinstance(data, dict)
        if data_is_dict:
            data__missing_keys = set(['prompt']) - data.keys()
            if data__missing_keys:
                raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain " + (str(sorted(data__missing_keys)) + " properties"))
    else:
        try:
            data_is_dict = isinstance(data, dict)
            if data_is_dict:
                data__missing_keys = set(['prompt']) - data.keys()
                if data__missing_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain " + (str(sorted(data__missing_keys)) + " properties"))
        except (JsonSchemaValueException, JsonSchemaValuesException): pass
        else:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must NOT match a disallowed definition")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['id']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain " + (str(sorted(data__missing_keys)) + " properties"))
        data_keys = set(data.keys())
        if "id" in data_keys:
            data_keys.remove("id")
            data__id = data["id"]
            validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_id(data__id, custom_formats, (name_prefix or "data") + ".id")
        if "prompt" in data_keys:
            data_keys.remove("prompt")
            data__prompt = data["prompt"]
            if not isinstance(data__prompt, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".prompt must be string")
            if isinstance(data__prompt, str):
                data__prompt_len = len(data__prompt)
                if data__prompt_len < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".prompt must be longer than or equal to 1 characters")
        if "duration" in data_keys:
            data_keys.remove("duration")
            data__duration = data["duration"]
            validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_duration(data__duration, custom_formats, (name_prefix or "data") + ".duration")
        if "shots" in data_keys:
            data_keys.remove("shots")
            data__shots = data["shots"]
            data__shots_any_of_count1 = 0
            if not data__shots_any_of_count1:
                try:
                    if not (isinstance(data__shots, str) and data__shots == 'auto'):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".shots must be same as const definition: auto")
                    data__shots_any_of_count1 += 1
                except (JsonSchemaValueException, JsonSchemaValuesException): pass
            if not data__shots_any_of_count1:
                try:
                    if not isinstance(data__shots, (list, tuple)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".shots must be array")
                    data__shots_is_list = isinstance(data__shots, (list, tuple))
                    if data__shots_is_list:
                        data__shots_len = len(data__shots)
                        if data__shots_len < 1:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".shots must contain at least 1 items")
                        for data__shots_x, data__shots_item in enumerate(data__shots):
                            validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_shot(data__shots_item, custom_formats, (name_prefix or "data") + ".shots[{data__shots_x}]".format(**locals()))
                    data__shots_any_of_count1 += 1
                except (JsonSchemaValueException, JsonSchemaValuesException): pass
            if not data__shots_any_of_count1:
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".shots cannot be validated by any definition")
        if "mode" in data_keys:
            data_keys.remove("mode")
            data__mode = data["mode"]
            validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_mode(data__mode, custom_formats, (name_prefix or "data") + ".mode")
        if "aspect_ratio" in data_keys:
            data_keys.remove("aspect_ratio")
            data__aspectratio = data["aspect_ratio"]
            validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_aspect_ratio(data__aspectratio, custom_formats, (name_prefix or "data") + ".aspect_ratio")
        if "sound" in data_keys:
            data_keys.remove("sound")
            data__sound = data["sound"]
            validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_sound(data__sound, custom_formats, (name_prefix or "data") + ".sound")
        if "transition" in data_keys:
            data_keys.remove("transition")
            data__transition = data["transition"]
            validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_transition(data__transition, custom_formats, (name_prefix or "data") + ".transition")
        if "transition_seconds" in data_keys:
            data_keys.remove("transition_seconds")
            data__transitionseconds = data["transition_seconds"]
            validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_transition_seconds(data__transitionseconds, custom_formats, (name_prefix or "data") + ".transition_seconds")
        if "caption" in data_keys:
            data_keys.remove("caption")
            data__caption = data["caption"]
            validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_caption(data__caption, custom_formats, (name_prefix or "data") + ".caption")
        if "candidates" in data_keys:
            data_keys.remove("candidates")
            data__candidates = data["candidates"]
            validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_candidates(data__candidates, custom_formats, (name_prefix or "data") + ".candidates")
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    return data

def validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_candidates(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (int)) and not (isinstance(data, float) and data.is_integer()) or isinstance(data, bool):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be integer")
    if isinstance(data, (int, float, Decimal)) and not isinstance(data, bool):
        if data < 1:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must be bigger than or equal to 1")
        if data > 10:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must be smaller than or equal to 10")
    return data

def validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_caption(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (str)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be string")
    return data

def validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_sound(data, custom_formats={}, name_prefix=None):
    data_any_of_count2 = 0
    if not data_any_of_count2:
        try:
            if not (isinstance(data, str) and data == 'on' or isinstance(data, str) and data == 'off'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + " must be one of ['on', 'off']")
            data_any_of_count2 += 1
        except (JsonSchemaValueException, JsonSchemaValuesException): pass
    if not data_any_of_count2:
        try:
            if not isinstance(data, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + " must be boolean")
            data_any_of_count2 += 1
        except (JsonSchemaValueException, JsonSchemaValuesException): pass
    if not data_any_of_count2:
        try:
            validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_template(data, custom_formats, (name_prefix or "data") + "")
            data_any_of_count2 += 1
        except (JsonSchemaValueException, JsonSchemaValuesException): pass
    if not data_any_of_count2:
        raise JsonSchemaValueException("" + (name_prefix or "data") + " cannot be validated by any definition")
    return data

def validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_template(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (str)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be string")
    if isinstance(data, str):
        if not REGEX_PATTERNS['\\{[{%#]'].search(data):
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must match pattern \\{[{%#]")
    return data

def validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_aspect_ratio(data, custom_formats={}, name_prefix=None):
    data_any_of_count3 = 0
    if not data_any_of_count3:
        try:
            if not (isinstance(data, str) and data == '16:9' or isinstance(data, str) and data == '1:1' or isinstance(data, str) and data == '9:16'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + " must be one of ['16:9', '1:1', '9:16']")
            data_any_of_count3 += 1
        except (JsonSchemaValueException, JsonSchemaValuesException): pass
    if not data_any_of_count3:
        try:
            validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_template(data, custom_formats, (name_prefix or "data") + "")
            data_any_of_count3 += 1
        except (JsonSchemaValueException, JsonSchemaValuesException): pass
    if not data_any_of_count3:
        raise JsonSchemaValueException("" + (name_prefix or "data") + " cannot be validated by any definition")
    return data

def validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_mode(data, custom_formats={}, name_prefix=None):
    data_any_of_count4 = 0
    if not data_any_of_count4:
        try:
            if not (isinstance(data, str) and data == 'std' or isinstance(data, str) and data == 'pro'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + " must be one of ['std', 'pro']")
            data_any_of_count4 += 1
        except (JsonSchemaValueException, JsonSchemaValuesException): pass
    if not data_any_of_count4:
        try:
            validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_template(data, custom_formats, (name_prefix or "data") + "")
            data_any_of_count4 += 1
        except (JsonSchemaValueException, JsonSchemaValuesException): pass
    if not data_any_of_count4:
        raise JsonSchemaValueException("" + (name_prefix or "data") + " cannot be validated by any definition")
    return data

def validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_shot(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['prompt']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain " + (str(sorted(data__missing_keys)) + " properties"))
        data_keys = set(data.keys())
        if "prompt" in data_keys:
            data_keys.remove("prompt")
            data__prompt = data["prompt"]
            if not isinstance(data__prompt, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".prompt must be string")
            if isinstance(data__prompt, str):
                data__prompt_len = len(data__prompt)
                if data__prompt_len < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".prompt must be longer than or equal to 1 characters")
        if "duration" in data_keys:
            data_keys.remove("duration")
            data__duration = data["duration"]
            validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_duration(data__duration, custom_formats, (name_prefix or "data") + ".duration")
        if "weight" in data_keys:
            data_keys.remove("weight")
            data__weight = data["weight"]
            if not isinstance(data__weight, (int, float, Decimal)) or isinstance(data__weight, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".weight must be number")
            if isinstance(data__weight, (int, float, Decimal)) and not isinstance(data__weight, bool):
                if data__weight <= 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".weight must be bigger than 0")
        if "caption" in data_keys:
            data_keys.remove("caption")
            data__caption = data["caption"]
            validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_caption(data__caption, custom_formats, (name_prefix or "data") + ".caption")
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    return data

def validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_duration(data, custom_formats={}, name_prefix=None):
    data_any_of_count5 = 0
    if not data_any_of_count5:
        try:
            if not isinstance(data, (int)) and not (isinstance(data, float) and data.is_integer()) or isinstance(data, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + " must be integer")
            if isinstance(data, (int, float, Decimal)) and not isinstance(data, bool):
                if data < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + " must be bigger than or equal to 1")
            data_any_of_count5 += 1
        except (JsonSchemaValueException, JsonSchemaValuesException): pass
    if not data_any_of_count5:
        try:
            validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_template(data, custom_formats, (name_prefix or "data") + "")
            data_any_of_count5 += 1
        except (JsonSchemaValueException, JsonSchemaValuesException): pass
    if not data_any_of_count5:
        raise JsonSchemaValueException("" + (name_prefix or "data") + " cannot be validated by any definition")
    return data

def validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_id(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (str)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be string")
    if isinstance(data, str):
        data_len = len(data)
        if data_len > 64:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must be shorter than or equal to 64 characters")
        if not REGEX_PATTERNS['^[a-z0-9][a-z0-9_-]*$'].search(data):
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must match pattern ^[a-z0-9][a-z0-9_-]*$")
    return data

def validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_transition_seconds(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (int, float, Decimal)) or isinstance(data, bool):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be number")
    if isinstance(data, (int, float, Decimal)) and not isinstance(data, bool):
        if data > 5:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must be smaller than or equal to 5")
        if data <= 0:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must be bigger than 0")
    return data

def validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_transition(data, custom_formats={}, name_prefix=None):
    if not (isinstance(data, str) and data == 'cut' or isinstance(data, str) and data == 'crossfade' or isinstance(data, str) and data == 'fade'):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be one of ['cut', 'crossfade', 'fade']")
    return data

def validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_variants(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object")
    data_any_of_count6 = 0
    if not data_any_of_count6:
        try:
            data_is_dict = isinstance(data, dict)
            if data_is_dict:
                data__missing_keys = set(['matrix']) - data.keys()
                if data__missing_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain " + (str(sorted(data__missing_keys)) + " properties"))
            data_any_of_count6 += 1
        except (JsonSchemaValueException, JsonSchemaValuesException): pass
    if not data_any_of_count6:
        try:
            data_is_dict = isinstance(data, dict)
            if data_is_dict:
                data__missing_keys = set(['rows']) - data.keys()
                if data__missing_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain " + (str(sorted(data__missing_keys)) + " properties"))
            data_any_of_count6 += 1
        except (JsonSchemaValueException, JsonSchemaValuesException): pass
    if not data_any_of_count6:
        try:
            data_is_dict = isinstance(data, dict)
            if data_is_dict:
                data__missing_keys = set(['include']) - data.keys()
                if data__missing_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain " + (str(sorted(data__missing_keys)) + " properties"))
            data_any_of_count6 += 1
        except (JsonSchemaValueException, JsonSchemaValuesException): pass
    if not data_any_of_count6:
        raise JsonSchemaValueException("" + (name_prefix or "data") + " cannot be validated by any definition")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data_keys = set(data.keys())
        if "id" in data_keys:
            data_keys.remove("id")
            data__id = data["id"]
            if not isinstance(data__id, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".id must be string")
        if "matrix" in data_keys:
            data_keys.remove("matrix")
            data__matrix = data["matrix"]
            if not isinstance(data__matrix, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".matrix must be object")
            data__matrix_is_dict = isinstance(data__matrix, dict)
            if data__matrix_is_dict:
                data__matrix_len = len(data__matrix)
                if data__matrix_len < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".matrix must contain at least 1 properties")
                data__matrix_keys = set(data__matrix.keys())
                for data__matrix_key in data__matrix_keys:
                    if data__matrix_key not in []:
                        data__matrix_value = data__matrix.get(data__matrix_key)
                        if not isinstance(data__matrix_value, (list, tuple)):
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".matrix.{data__matrix_key}".format(**locals()) + " must be array")
                        data__matrix_value_is_list = isinstance(data__matrix_value, (list, tuple))
                        if data__matrix_value_is_list:
                            data__matrix_value_len = len(data__matrix_value)
                            if data__matrix_value_len < 1:
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".matrix.{data__matrix_key}".format(**locals()) + " must contain at least 1 items")
                            for data__matrix_value_x, data__matrix_value_item in enumerate(data__matrix_value):
                                validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_scalar(data__matrix_value_item, custom_formats, (name_prefix or "data") + ".matrix.{data__matrix_key}[{data__matrix_value_x}]".format(**locals()))
                if data__matrix_len != 0:
                    data__matrix_property_names = True
                    for data__matrix_key in data__matrix:
                        try:
                            if isinstance(data__matrix_key, str):
                                if not REGEX_PATTERNS['^[A-Za-z_][A-Za-z0-9_]*$'].search(data__matrix_key):
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".matrix must match pattern ^[A-Za-z_][A-Za-z0-9_]*$")
                        except (JsonSchemaValueException, JsonSchemaValuesException):
                            data__matrix_property_names = False
                    if not data__matrix_property_names:
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".matrix must be named by propertyName definition")
        if "include" in data_keys:
            data_keys.remove("include")
            data__include = data["include"]
            if not isinstance(data__include, (list, tuple)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".include must be array")
            data__include_is_list = isinstance(data__include, (list, tuple))
            if data__include_is_list:
                data__include_len = len(data__include)
                for data__include_x, data__include_item in enumerate(data__include):
                    if not isinstance(data__include_item, (dict)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".include[{data__include_x}]".format(**locals()) + " must be object")
                    data__include_item_is_dict = isinstance(data__include_item, dict)
                    if data__include_item_is_dict:
                        data__include_item_len = len(data__include_item)
                        if data__include_item_len < 1:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".include[{data__include_x}]".format(**locals()) + " must contain at least 1 properties")
                        data__include_item_keys = set(data__include_item.keys())
                        for data__include_item_key in data__include_item_keys:
                            if data__include_item_key not in []:
                                data__include_item_value = data__include_item.get(data__include_item_key)
                                validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_scalar(data__include_item_value, custom_formats, (name_prefix or "data") + ".include[{data__include_x}].{data__include_item_key}".format(**locals()))
        if "exclude" in data_keys:
            data_keys.remove("exclude")
            data__exclude = data["exclude"]
            if not isinstance(data__exclude, (list, tuple)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".exclude must be array")
            data__exclude_is_list = isinstance(data__exclude, (list, tuple))
            if data__exclude_is_list:
                data__exclude_len = len(data__exclude)
                for data__exclude_x, data__exclude_item in enumerate(data__exclude):
                    if not isinstance(data__exclude_item, (dict)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".exclude[{data__exclude_x}]".format(**locals()) + " must be object")
                    data__exclude_item_is_dict = isinstance(data__exclude_item, dict)
                    if data__exclude_item_is_dict:
                        data__exclude_item_len = len(data__exclude_item)
                        if data__exclude_item_len < 1:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".exclude[{data__exclude_x}]".format(**locals()) + " must contain at least 1 properties")
                        data__exclude_item_keys = set(data__exclude_item.keys())
                        for data__exclude_item_key in data__exclude_item_keys:
                            if data__exclude_item_key not in []:
                                data__exclude_item_value = data__exclude_item.get(data__exclude_item_key)
                                validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_scalar(data__exclude_item_value, custom_formats, (name_prefix or "data") + ".exclude[{data__exclude_x}].{data__exclude_item_key}".format(**locals()))
        if "rows" in data_keys:
            data_keys.remove("rows")
            data__rows = data["rows"]
            data__rows_any_of_count7 = 0
            if not data__rows_any_of_count7:
                try:
                    if not isinstance(data__rows, (str)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".rows must be string")
                    if isinstance(data__rows, str):
                        if not REGEX_PATTERNS['\\.(csv|json|ya?ml)$'].search(data__rows):
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".rows must match pattern \\.(csv|json|ya?ml)$")
                    data__rows_any_of_count7 += 1
                except (JsonSchemaValueException, JsonSchemaValuesException): pass
            if not data__rows_any_of_count7:
                try:
                    if not isinstance(data__rows, (list, tuple)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".rows must be array")
                    data__rows_is_list = isinstance(data__rows, (list, tuple))
                    if data__rows_is_list:
                        data__rows_len = len(data__rows)
                        if data__rows_len < 1:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".rows must contain at least 1 items")
                        for data__rows_x, data__rows_item in enumerate(data__rows):
                            if not isinstance(data__rows_item, (dict)):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".rows[{data__rows_x}]".format(**locals()) + " must be object")
                            data__rows_item_is_dict = isinstance(data__rows_item, dict)
                            if data__rows_item_is_dict:
                                data__rows_item_len = len(data__rows_item)
                                if data__rows_item_len < 1:
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".rows[{data__rows_x}]".format(**locals()) + " must contain at least 1 properties")
                                data__rows_item_keys = set(data__rows_item.keys())
                                for data__rows_item_key in data__rows_item_keys:
                                    if data__rows_item_key not in []:
                                        data__rows_item_value = data__rows_item.get(data__rows_item_key)
                                        validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_scalar(data__rows_item_value, custom_formats, (name_prefix or "data") + ".rows[{data__rows_x}].{data__rows_item_key}".format(**locals()))
                    data__rows_any_of_count7 += 1
                except (JsonSchemaValueException, JsonSchemaValuesException): pass
            if not data__rows_any_of_count7:
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".rows cannot be validated by any definition")
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    return data

def validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_scalar(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (str, int, float, Decimal, bool)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be string or number or boolean")
    return data

def validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_settings(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data_keys = set(data.keys())
        if "mode" in data_keys:
            data_keys.remove("mode")
            data__mode = data["mode"]
            validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_mode(data__mode, custom_formats, (name_prefix or "data") + ".mode")
        if "aspect_ratio" in data_keys:
            data_keys.remove("aspect_ratio")
            data__aspectratio = data["aspect_ratio"]
            validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_aspect_ratio(data__aspectratio, custom_formats, (name_prefix or "data") + ".aspect_ratio")
        if "sound" in data_keys:
            data_keys.remove("sound")
            data__sound = data["sound"]
            validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_sound(data__sound, custom_formats, (name_prefix or "data") + ".sound")
        if "candidates" in data_keys:
            data_keys.remove("candidates")
            data__candidates = data["candidates"]
            validate_https___storyboard_dev_schemas_storyboard_schema_json___defs_candidates(data__candidates, custom_formats, (name_prefix or "data") + ".candidates")
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    return data


validate = validate_https___storyboard_dev_schemas_storyboard_schema_json
