# Generated from schemas/kling-o3.request.schema.json by `python -m storyboard.precompiled.generate`
# (fastjsonschema 2.22.3). Do not edit.
# ruff: noqa
# mypy: ignore-errors
SCHEMA_SHA256 = "fd00eefcdf1546622b45e740ff8e7ad6572356ebf56ddc05d6e1bfbd7073cbca"
VERSION = "2.22.3"
from decimal import Decimal
import re
from storyboard.precompiled import JsonSchemaValueException, JsonSchemaValuesException  # noqa: F401


REGEX_PATTERNS = {
    'uri_re_pattern': re.compile('^\\w+:(\\/?\\/?)[^\\s]+\\Z')
}

NoneType = type(None)

def validate_https___storyboard_dev_schemas_kling_o3_request_schema_json(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['model', 'args']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain " + (str(sorted(data__missing_keys)) + " properties"))
        data_keys = set(data.keys())
        if "model" in data_keys:
            data_keys.remove("model")
            data__model = data["model"]
            if not (isinstance(data__model, str) and data__model == 'kwaivgi/kling-o3/text-to-video'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".model must be same as const definition: kwaivgi/kling-o3/text-to-video")
        if "callback_url" in data_keys:
            data_keys.remove("callback_url")
            data__callbackurl = data["callback_url"]
            if not isinstance(data__callbackurl, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".callback_url must be string")
            if isinstance(data__callbackurl, str):
                if not REGEX_PATTERNS["uri_re_pattern"].match(data__callbackurl):
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".callback_url must be uri")
        if "args" in data_keys:
            data_keys.remove("args")
            data__args = data["args"]
            if not isinstance(data__args, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".args must be object")
            try:
                data__args_is_dict = isinstance(data__args, dict)
                if data__args_is_dict:
                    data__args__missing_keys = set(['multi_shot']) - data__args.keys()
                    if data__args__missing_keys:
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".args must contain " + (str(sorted(data__args__missing_keys)) + " properties"))
                    data__args_keys = set(data__args.keys())
                    if "multi_shot" in data__args_keys:
                        data__args_keys.remove("multi_shot")
                        data__args__multishot = data__args["multi_shot"]
                        if not (isinstance(data__args__multishot, bool) and data__args__multishot is True):
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.multi_shot must be same as const definition: True")
            except (JsonSchemaValueException, JsonSchemaValuesException):
                try:
                    data__args_any_of_count1 = 0
                    if not data__args_any_of_count1:
                        try:
                            data__args_is_dict = isinstance(data__args, dict)
                            if data__args_is_dict:
                                data__args__missing_keys = set(['shot_type']) - data__args.keys()
                                if data__args__missing_keys:
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".args must contain " + (str(sorted(data__args__missing_keys)) + " properties"))
                            data__args_any_of_count1 += 1
                        except (JsonSchemaValueException, JsonSchemaValuesException): pass
                    if not data__args_any_of_count1:
                        try:
                            data__args_is_dict = isinstance(data__args, dict)
                            if data__args_is_dict:
                                data__args__missing_keys = set(['multi_prompt']) - data__args.keys()
                                if data__args__missing_keys:
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".args must contain " + (str(sorted(data__args__missing_keys)) + " properties"))
                            data__args_any_of_count1 += 1
                        except (JsonSchemaValueException, JsonSchemaValuesException): pass
                    if not data__args_any_of_count1:
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".args cannot be validated by any definition")
                except (JsonSchemaValueException, JsonSchemaValuesException): pass
                else:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".args must NOT match a disallowed definition")
            else:
                data__args_is_dict = isinstance(data__args, dict)
                if data__args_is_dict:
                    data__args__missing_keys = set(['shot_type']) - data__args.keys()
                    if data__args__missing_keys:
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".args must contain " + (str(sorted(data__args__missing_keys)) + " properties"))
            try:
                data__args_is_dict = isinstance(data__args, dict)
                if data__args_is_dict:
                    data__args__missing_keys = set(['shot_type']) - data__args.keys()
                    if data__args__missing_keys:
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".args must contain " + (str(sorted(data__args__missing_keys)) + " properties"))
                    data__args_keys = set(data__args.keys())
                    if "shot_type" in data__args_keys:
                        data__args_keys.remove("shot_type")
                        data__args__shottype = data__args["shot_type"]
                        if not (isinstance(data__args__shottype, str) and data__args__shottype == 'customize'):
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.shot_type must be same as const definition: customize")
            except (JsonSchemaValueException, JsonSchemaValuesException):
                try:
                    data__args_is_dict = isinstance(data__args, dict)
                    if data__args_is_dict:
                        data__args__missing_keys = set(['multi_prompt']) - data__args.keys()
                        if data__args__missing_keys:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".args must contain " + (str(sorted(data__args__missing_keys)) + " properties"))
                except (JsonSchemaValueException, JsonSchemaValuesException): pass
                else:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".args must NOT match a disallowed definition")
                data__args_is_dict = isinstance(data__args, dict)
                if data__args_is_dict:
                    data__args_keys = set(data__args.keys())
                    if "prompt" in data__args_keys:
                        data__args_keys.remove("prompt")
                        data__args__prompt = data__args["prompt"]
                        if isinstance(data__args__prompt, str):
                            data__args__prompt_len = len(data__args__prompt)
                            if data__args__prompt_len < 1:
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.prompt must be longer than or equal to 1 characters")
            else:
                data__args_is_dict = isinstance(data__args, dict)
                if data__args_is_dict:
                    data__args__missing_keys = set(['multi_prompt']) - data__args.keys()
                    if data__args__missing_keys:
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".args must contain " + (str(sorted(data__args__missing_keys)) + " properties"))
            data__args_is_dict = isinstance(data__args, dict)
            if data__args_is_dict:
                data__args__missing_keys = set(['prompt', 'mode', 'duration', 'aspect_ratio', 'sound', 'multi_shot']) - data__args.keys()
                if data__args__missing_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".args must contain " + (str(sorted(data__args__missing_keys)) + " properties"))
                data__args_keys = set(data__args.keys())
                if "prompt" in data__args_keys:
                    data__args_keys.remove("prompt")
                    data__args__prompt = data__args["prompt"]
                    if not isinstance(data__args__prompt, (str)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.prompt must be string")
                    if isinstance(data__args__prompt, str):
                        data__args__prompt_len = len(data__args__prompt)
                        if data__args__prompt_len > 2500:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.prompt must be shorter than or equal to 2500 characters")
                if "mode" in data__args_keys:
                    data__args_keys.remove("mode")
                    data__args__mode = data__args["mode"]
                    if not (isinstance(data__args__mode, str) and data__args__mode == 'std' or isinstance(data__args__mode, str) and data__args__mode == 'pro'):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.mode must be one of ['std', 'pro']")
                if "duration" in data__args_keys:
                    data__args_keys.remove("duration")
                    data__args__duration = data__args["duration"]
                    if not isinstance(data__args__duration, (int)) and not (isinstance(data__args__duration, float) and data__args__duration.is_integer()) or isinstance(data__args__duration, bool):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.duration must be integer")
                    if isinstance(data__args__duration, (int, float, Decimal)) and not isinstance(data__args__duration, bool):
                        if data__args__duration < 3:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.duration must be bigger than or equal to 3")
                        if data__args__duration > 15:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.duration must be smaller than or equal to 15")
                if "aspect_ratio" in data__args_keys:
                    data__args_keys.remove("aspect_ratio")
                    data__args__aspectratio = data__args["aspect_ratio"]
                    if not (isinstance(data__args__aspectratio, str) and data__args__aspectratio == '16:9' or isinstance(data__args__aspectratio, str) and data__args__aspectratio == '1:1' or isinstance(data__args__aspectratio, str) and data__args__aspectratio == '9:16'):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.aspect_ratio must be one of ['16:9', '1:1', '9:16']")
                if "sound" in data__args_keys:
                    data__args_keys.remove("sound")
                    data__args__sound = data__args["sound"]
                    if not (isinstance(data__args__sound, str) and data__args__sound == 'on' or isinstance(data__args__sound, str) and data__args__sound == 'off'):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.sound must be one of ['on', 'off']")
                if "multi_shot" in data__args_keys:
                    data__args_keys.remove("multi_shot")
                    data__args__multishot = data__args["multi_shot"]
                    if not isinstance(data__args__multishot, (bool)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.multi_shot must be boolean")
                if "shot_type" in data__args_keys:
                    data__args_keys.remove("shot_type")
                    data__args__shottype = data__args["shot_type"]
                    if not (isinstance(data__args__shottype, str) and data__args__shottype == 'intelligence' or isinstance(data__args__shottype, str) and data__args__shottype == 'customize'):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.shot_type must be one of ['intelligence', 'customize']")
                if "multi_prompt" in data__args_keys:
                    data__args_keys.remove("multi_prompt")
                    data__args__multiprompt = data__args["multi_prompt"]
                    if not isinstance(data__args__multiprompt, (list, tuple)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.multi_prompt must be array")
                    data__args__multiprompt_is_list = isinstance(data__args__multiprompt, (list, tuple))
                    if data__args__multiprompt_is_list:
                        data__args__multiprompt_len = len(data__args__multiprompt)
                        if data__args__multiprompt_len < 1:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.multi_prompt must contain at least 1 items")
                        if data__args__multiprompt_len > 6:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.multi_prompt must contain less than or equal to 6 items")
                        for data__args__multiprompt_x, data__args__multiprompt_item in enumerate(data__args__multiprompt):
                            if not isinstance(data__args__multiprompt_item, (dict)):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.multi_prompt[{data__args__multiprompt_x}]".format(**locals()) + " must be object")
                            data__args__multiprompt_item_is_dict = isinstance(data__args__multiprompt_item, dict)
                            if data__args__multiprompt_item_is_dict:
                                data__args__multiprompt_item__missing_keys = set(['prompt', 'duration']) - data__args__multiprompt_item.keys()
                                if data__args__multiprompt_item__missing_keys:
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.multi_prompt[{data__args__multiprompt_x}]".format(**locals()) + " must contain " + (str(sorted(data__args__multiprompt_item__missing_keys)) + " properties"))
                                data__args__multiprompt_item_keys = set(data__args__multiprompt_item.keys())
                                if "prompt" in data__args__multiprompt_item_keys:
                                    data__args__multiprompt_item_keys.remove("prompt")
                                    data__args__multiprompt_item__prompt = data__args__multiprompt_item["prompt"]
                                    if not isinstance(data__args__multiprompt_item__prompt, (str)):
                                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.multi_prompt[{data__args__multiprompt_x}].prompt".format(**locals()) + " must be string")
                                    if isinstance(data__args__multiprompt_item__prompt, str):
                                        data__args__multiprompt_item__prompt_len = len(data__args__multiprompt_item__prompt)
                                        if data__args__multiprompt_item__prompt_len < 1:
                                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.multi_prompt[{data__args__multiprompt_x}].prompt".format(**locals()) + " must be longer than or equal to 1 characters")
                                        if data__args__multiprompt_item__prompt_len > 512:
                                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.multi_prompt[{data__args__multiprompt_x}].prompt".format(**locals()) + " must be shorter than or equal to 512 characters")
                                if "duration" in data__args__multiprompt_item_keys:
                                    data__args__multiprompt_item_keys.remove("duration")
                                    data__args__multiprompt_item__duration = data__args__multiprompt_item["duration"]
                                    if not isinstance(data__args__multiprompt_item__duration, (int)) and not (isinstance(data__args__multiprompt_item__duration, float) and data__args__multiprompt_item__duration.is_integer()) or isinstance(data__args__multiprompt_item__duration, bool):
                                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.multi_prompt[{data__args__multiprompt_x}].duration".format(**locals()) + " must be integer")
                                    if isinstance(data__args__multiprompt_item__duration, (int, float, Decimal)) and not isinstance(data__args__multiprompt_item__duration, bool):
                                        if data__args__multiprompt_item__duration < 1:
                                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.multi_prompt[{data__args__multiprompt_x}].duration".format(**locals()) + " must be bigger than or equal to 1")
                                        if data__args__multiprompt_item__duration > 15:
                                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.multi_prompt[{data__args__multiprompt_x}].duration".format(**locals()) + " must be smaller than or equal to 15")
                                if data__args__multiprompt_item_keys:
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.multi_prompt[{data__args__multiprompt_x}]".format(**locals()) + " must not contain "+str(data__args__multiprompt_item_keys)+" properties")
                if data__args_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".args must not contain "+str(data__args_keys)+" properties")
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    return data


validate = validate_https___storyboard_dev_schemas_kling_o3_request_schema_json
